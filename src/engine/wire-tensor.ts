import * as ort from "onnxruntime-node";
import { type Dtype, dtypeInfo } from "../onnx/dtypes.js";
import type { TensorMap } from "../pipeline/pipeline.js";
import type { ArenaCursor, ArenaSpan } from "./arena-space.js";

/**
 * A tensor as it crosses a worker boundary: its data itself (the structured-clone algorithm carries it), or,
 * when the worker process shares an arena with the server (shared-arena.ts), where in the arena its bytes are.
 */
export type WireTensor =
  | { type: Dtype; dims: number[]; data: ort.Tensor["data"] }
  | { type: Dtype; dims: number[]; arenaOffset: number; byteLength: number };

export type WireTensorMap = Record<string, WireTensor>;

/**
 * Tensors to wire form. With an arena cursor, a numeric tensor already written in the arena (a batch merged
 * there, an output ONNX Runtime wrote there) is sent as its offset without a copy; any other that fits is
 * copied in once; strings and tensors past the cursor's span take the pipe. `transfer` collects buffers a
 * worker thread may be handed instead of a copy.
 */
export function toWire(tensors: TensorMap, transfer?: ArrayBuffer[], cursor?: ArenaCursor): WireTensorMap {
  const out: WireTensorMap = {};
  for (const [name, tensor] of Object.entries(tensors)) {
    const type = tensor.type as Dtype;
    const dims = tensor.dims.map(Number);
    const data = tensor.data;
    if (cursor && ArrayBuffer.isView(data)) {
      if (cursor.holds(data)) {
        out[name] = { type, dims, arenaOffset: data.byteOffset, byteLength: data.byteLength };
        continue;
      }
      const at = cursor.take(data.byteLength);
      if (at !== undefined) {
        new Uint8Array(cursor.arena, at, data.byteLength).set(
          new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
        );
        cursor.copiedBytes += data.byteLength;
        out[name] = { type, dims, arenaOffset: at, byteLength: data.byteLength };
        continue;
      }
    }
    if (transfer && ArrayBuffer.isView(data) && data.buffer instanceof ArrayBuffer) {
      // Only a view that owns its whole buffer may be moved: anything else would detach a neighbour's data.
      if (
        data.byteOffset === 0 &&
        data.byteLength === data.buffer.byteLength &&
        !transfer.includes(data.buffer)
      )
        transfer.push(data.buffer);
    }
    out[name] = { type, dims, data };
  }
  return out;
}

/** The span of the arena the tensors of `wire` lie in, or undefined when none is there. */
export function arenaExtent(wire: WireTensorMap): ArenaSpan | undefined {
  let extent: ArenaSpan | undefined;
  for (const t of Object.values(wire)) {
    if (!("arenaOffset" in t)) continue;
    const end = t.arenaOffset + t.byteLength;
    extent = extent
      ? { from: Math.min(extent.from, t.arenaOffset), to: Math.max(extent.to, end) }
      : { from: t.arenaOffset, to: end };
  }
  return extent;
}

/**
 * Wire form to tensors; arena tensors are views of the arena, read in place (the inference process runs on
 * them; the server encodes answers from them until it releases their span, worker-pool.ts).
 */
export function fromWire(wire: WireTensorMap, arena?: ArrayBuffer): TensorMap {
  const out: TensorMap = {};
  for (const [name, t] of Object.entries(wire)) {
    if ("data" in t) {
      out[name] = new ort.Tensor(t.type, t.data, t.dims);
      continue;
    }
    const array = dtypeInfo(t.type)?.array;
    if (!arena || !array) throw new Error(`tensor '${name}' is in a shared arena this side does not have`);
    const view = new array(arena, t.arenaOffset, t.byteLength / array.BYTES_PER_ELEMENT);
    out[name] = new ort.Tensor(t.type, view, t.dims) as ort.Tensor;
  }
  return out;
}
