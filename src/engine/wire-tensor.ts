import * as ort from "onnxruntime-node";
import type { Dtype } from "../onnx/dtypes.js";
import type { TensorMap } from "../pipeline/pipeline.js";

/** A tensor as it crosses a worker boundary: plain data the structured-clone algorithm can carry. */
export interface WireTensor {
  type: Dtype;
  dims: number[];
  data: ort.Tensor["data"];
}

export type WireTensorMap = Record<string, WireTensor>;

/** Tensors to wire form; `transfer` collects buffers that may be moved instead of copied. */
export function toWire(tensors: TensorMap, transfer?: ArrayBuffer[]): WireTensorMap {
  const out: WireTensorMap = {};
  for (const [name, tensor] of Object.entries(tensors)) {
    const data = tensor.data;
    if (transfer && ArrayBuffer.isView(data) && data.buffer instanceof ArrayBuffer) {
      // Only a view that owns its whole buffer may be moved: anything else would detach a neighbour's data.
      if (
        data.byteOffset === 0 &&
        data.byteLength === data.buffer.byteLength &&
        !transfer.includes(data.buffer)
      )
        transfer.push(data.buffer);
    }
    out[name] = { type: tensor.type as Dtype, dims: tensor.dims.map(Number), data };
  }
  return out;
}

export function fromWire(wire: WireTensorMap): TensorMap {
  const out: TensorMap = {};
  for (const [name, t] of Object.entries(wire)) out[name] = new ort.Tensor(t.type, t.data, t.dims);
  return out;
}
