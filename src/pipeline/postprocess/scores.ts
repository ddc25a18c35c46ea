import type * as ort from "onnxruntime-node";
import { fromFloat16Bits } from "../../onnx/float16.js";
import { RuntimeFailure } from "../../util/errors.js";
import type { TensorMap } from "../pipeline.js";

/** What turns a row of logits into scores. */
export type ScoreFunction = "softmax" | "sigmoid" | "none";

/** A float output as plain numbers plus its dims. */
export interface FloatOutput {
  data: ArrayLike<number>;
  dims: readonly number[];
}

/** The named output (or the first one) as float numbers; float16 is widened. */
export function floatOutput(outputs: TensorMap, name?: string): FloatOutput {
  const tensor: ort.Tensor | undefined = name ? outputs[name] : Object.values(outputs)[0];
  if (!tensor) {
    throw new RuntimeFailure(`The model returned no output${name ? ` named '${name}'` : ""}.`, {
      hint: "Check the output names with `gpux inspect`.",
    });
  }
  if (tensor.type === "float32" || tensor.type === "float64") {
    return { data: tensor.data as Float32Array | Float64Array, dims: tensor.dims };
  }
  if (tensor.type === "float16") {
    const raw = tensor.data as ArrayLike<number>;
    const data = raw instanceof Float32Array ? raw : Float32Array.from(raw, (bits) => fromFloat16Bits(bits));
    return { data, dims: tensor.dims };
  }
  throw new RuntimeFailure(`Output '${name ?? "0"}' is ${tensor.type}; the pipeline expects float scores.`, {
    hint: "Remove `task:` from gpux.yml to get the raw outputs.",
  });
}

/** Row `index` of length `width` starting at `offset` in a flat array, as numbers. */
export function row(data: ArrayLike<number>, offset: number, width: number): number[] {
  const out = new Array<number>(width);
  for (let i = 0; i < width; i++) out[i] = data[offset + i] as number;
  return out;
}

export function softmax(values: readonly number[]): number[] {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) if (v > max) max = v;
  const exps = values.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((v) => v / sum);
}

export function sigmoid(values: readonly number[]): number[] {
  return values.map((v) => 1 / (1 + Math.exp(-v)));
}

export function applyScoreFunction(values: readonly number[], fn: ScoreFunction): number[] {
  if (fn === "softmax") return softmax(values);
  if (fn === "sigmoid") return sigmoid(values);
  return [...values];
}

export function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}
