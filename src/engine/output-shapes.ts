import * as ort from "onnxruntime-node";
import { dtypeInfo } from "../onnx/dtypes.js";
import type { Dim, TensorSpec } from "../onnx/tensor-spec.js";
import type { TensorMap } from "../pipeline/pipeline.js";
import type { ArenaAllocate } from "./arena-space.js";

/** Input shapes remembered at most; past it the memory starts again (a model fed every length once). */
const maxRemembered = 256;

/**
 * What shapes a model's outputs had for each shape of its inputs, so an inference process can hand ONNX
 * Runtime output tensors that already lie in the shared arena (pre-allocated outputs): ONNX Runtime then
 * writes the answers there itself and nothing is copied into the arena afterwards. Only models that declare
 * it (see the constructor) are guessed for; should one lie (its shapes depend on the values after all), a
 * wrong guess fails the run, which is run again without, and the memory stops guessing for good.
 */
export class OutputShapes {
  private readonly seen = new Map<string, Record<string, number[]>>();
  private guessing: boolean;

  constructor(
    inputs: readonly TensorSpec[],
    private readonly outputs: readonly TensorSpec[],
  ) {
    // Guess only where the model says its outputs' shapes follow from its inputs' (every open output
    // dimension is named like an input's: batch, sequence), and never for strings, which have no fixed size.
    const inputDims = new Set(
      inputs.flatMap((spec) => spec.shape ?? []).filter((dim) => typeof dim === "string" && dim !== ""),
    );
    const follows = (dim: Dim) =>
      (typeof dim === "number" && dim >= 0) || (typeof dim === "string" && inputDims.has(dim));
    this.guessing = outputs.every(
      (spec) => dtypeInfo(spec.dtype)?.array !== undefined && (spec.shape?.every(follows) ?? false),
    );
  }

  /** Output tensors for `feeds` in the arena, when their shapes are known and all fit; else undefined. */
  preallocate(feeds: TensorMap, allocate: ArenaAllocate): TensorMap | undefined {
    if (!this.guessing) return undefined;
    const dims = this.seen.get(shapeKey(feeds));
    if (!dims) return undefined;
    const fetches: TensorMap = {};
    for (const spec of this.outputs) {
      const shape = dims[spec.name];
      const array = dtypeInfo(spec.dtype)?.array;
      if (!shape || !array) return undefined;
      const data = allocate(
        array,
        shape.reduce((a, b) => a * b, 1),
      );
      if (!data) return undefined;
      fetches[spec.name] = new ort.Tensor(spec.dtype, data, shape) as ort.Tensor;
    }
    return fetches;
  }

  /** Remember the output shapes a run of `feeds` gave. */
  learn(feeds: TensorMap, outputs: TensorMap): void {
    if (!this.guessing) return;
    if (this.seen.size >= maxRemembered) this.seen.clear();
    this.seen.set(
      shapeKey(feeds),
      Object.fromEntries(Object.entries(outputs).map(([name, t]) => [name, t.dims.map(Number)])),
    );
  }

  /** A guess was wrong: this model's output shapes depend on more than its input shapes. */
  stopGuessing(): void {
    this.guessing = false;
    this.seen.clear();
  }
}

function shapeKey(feeds: TensorMap): string {
  return Object.keys(feeds)
    .sort()
    .map((name) => `${name}:${feeds[name]?.type}:${feeds[name]?.dims.join(",")}`)
    .join("|");
}
