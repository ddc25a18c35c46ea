import * as ort from "onnxruntime-node";
import { dtypeInfo, type NumericTensorData } from "../onnx/dtypes.js";
import { toFloat16Bits } from "../onnx/float16.js";
import type { TensorMap } from "../pipeline/pipeline.js";
import { RuntimeFailure } from "../util/errors.js";
import type { ArenaAllocate } from "./arena-space.js";

/** Rows along axis 0 that every feed shares, or undefined when the feeds cannot be batched. */
export function batchRows(feeds: TensorMap): number | undefined {
  let rows: number | undefined;
  for (const tensor of Object.values(feeds)) {
    if (tensor.dims.length === 0) return undefined;
    const first = Number(tensor.dims[0]);
    if (rows === undefined) rows = first;
    else if (rows !== first) return undefined;
  }
  return rows;
}

function paddable(tensor: ort.Tensor, padding: Record<string, number> | undefined, name: string): boolean {
  return padding?.[name] !== undefined && tensor.dims.length >= 2 && tensor.type !== "string";
}

/**
 * Requests with equal keys can be merged: same feeds, dtypes and dims after axis 0, except the last axis
 * of feeds that have a padding value (those are padded to the longest).
 */
export function batchKey(feeds: TensorMap, padding: Record<string, number> | undefined): string {
  return Object.keys(feeds)
    .sort()
    .map((name) => {
      const tensor = feeds[name] as ort.Tensor;
      const pad = paddable(tensor, padding, name);
      const dims = tensor.dims.slice(1, pad ? -1 : undefined).join(",");
      return `${name}:${tensor.type}:${pad ? "p" : ""}[${dims}]`;
    })
    .join("|");
}

function padValue(type: ort.Tensor["type"], pad: number): number | bigint {
  if (type === "int64" || type === "uint64") return BigInt(pad);
  if (type === "float16") return toFloat16Bits(pad);
  return pad;
}

function mergeOne(
  name: string,
  tensors: ort.Tensor[],
  pad: number | undefined,
  allocate?: ArenaAllocate,
): ort.Tensor {
  const first = tensors[0] as ort.Tensor;
  const rows = tensors.reduce((sum, t) => sum + Number(t.dims[0]), 0);
  if (first.type === "string") {
    const data = tensors.flatMap((t) => t.data as string[]);
    return new ort.Tensor("string", data, [rows, ...first.dims.slice(1)]);
  }
  const rank = first.dims.length;
  const last = pad === undefined ? 0 : Math.max(...tensors.map((t) => Number(t.dims[rank - 1])));
  const dims = pad === undefined ? [rows, ...first.dims.slice(1)] : [rows, ...first.dims.slice(1, -1), last];
  const size = dims.reduce((a, b) => a * Number(b), 1);
  const Ctor = dtypeInfo(first.type)?.array;
  if (!Ctor) throw new RuntimeFailure(`Cannot batch input '${name}' of type ${first.type}.`);
  const out = allocate?.(Ctor, size) ?? (new Ctor(size) as NumericTensorData);
  let offset = 0;
  for (const tensor of tensors) {
    const data = tensor.data as NumericTensorData;
    const own = Number(tensor.dims[rank - 1]);
    if (pad === undefined || own === last) {
      (out as Float32Array).set(data as Float32Array, offset);
      offset += data.length;
      continue;
    }
    const value = padValue(first.type, pad);
    const lineCount = tensor.dims.slice(0, -1).reduce((a, b) => a * Number(b), 1);
    const fill = out as unknown as { fill(v: number | bigint, start: number, end: number): void };
    for (let line = 0; line < lineCount; line++) {
      const start = offset + line * last;
      (out as Float32Array).set((data as Float32Array).subarray(line * own, (line + 1) * own), start);
      fill.fill(value, start + own, start + last);
    }
    offset += lineCount * last;
  }
  return new ort.Tensor(first.type, out, dims.map(Number));
}

/**
 * Merge requests' feeds (equal batchKey) along axis 0, padding the last axis where allowed; `allocate` gives
 * the merged tensors their room (a worker's shared arena), else they are new arrays.
 */
export function mergeFeeds(
  requests: ReadonlyArray<{ feeds: TensorMap; padding?: Record<string, number> }>,
  allocate?: ArenaAllocate,
): TensorMap {
  const first = requests[0];
  if (!first) return {};
  const merged: TensorMap = {};
  for (const name of Object.keys(first.feeds)) {
    const tensors = requests.map((r) => r.feeds[name] as ort.Tensor);
    const pad = paddable(tensors[0] as ort.Tensor, first.padding, name) ? first.padding?.[name] : undefined;
    merged[name] = mergeOne(name, tensors, pad, allocate);
  }
  return merged;
}

/** Split batched outputs back along axis 0 into each request's rows (views, no copies). */
export function splitOutputs(outputs: TensorMap, rows: readonly number[], model: string): TensorMap[] {
  const total = rows.reduce((a, b) => a + b, 0);
  const parts: TensorMap[] = rows.map(() => ({}));
  for (const [name, tensor] of Object.entries(outputs)) {
    if (tensor.dims.length === 0 || Number(tensor.dims[0]) !== total) {
      throw new RuntimeFailure(
        `Model '${model}': output '${name}' has shape [${tensor.dims.join(", ")}], not ${total} rows along axis 0, so a batch cannot be split.`,
        { hint: "Set serving.max_batch_size: 1 in gpux.yml for models without a batch axis." },
      );
    }
    const rowSize = tensor.dims.slice(1).reduce((a, b) => a * Number(b), 1);
    let start = 0;
    rows.forEach((count, i) => {
      const data = tensor.data;
      const slice = Array.isArray(data)
        ? data.slice(start * rowSize, (start + count) * rowSize)
        : (data as Float32Array).subarray(start * rowSize, (start + count) * rowSize);
      (parts[i] as TensorMap)[name] = new ort.Tensor(tensor.type, slice, [count, ...tensor.dims.slice(1)]);
      start += count;
    });
  }
  return parts;
}
