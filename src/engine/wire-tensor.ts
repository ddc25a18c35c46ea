import * as ort from "onnxruntime-node";
import { type Dtype, dtypeInfo } from "../onnx/dtypes.js";
import type { TensorMap } from "../pipeline/pipeline.js";

/**
 * A tensor as it crosses a worker boundary: its data itself (the structured-clone algorithm carries it), or,
 * when the worker process shares an arena with the server (shared-arena.ts), where in the arena its bytes are.
 */
export type WireTensor =
  | { type: Dtype; dims: number[]; data: ort.Tensor["data"] }
  | { type: Dtype; dims: number[]; arenaOffset: number; byteLength: number };

export type WireTensorMap = Record<string, WireTensor>;

/** Every tensor in the arena starts on a cache line (and so on any element size). */
const arenaAlignment = 64;

/**
 * Tensors to wire form. With an arena, each numeric tensor that fits is copied into it, one after the other
 * from offset `from`, and only its offset is sent; strings and tensors past the arena's end take the pipe.
 * `transfer` collects buffers a worker thread may be handed instead of a copy.
 */
export function toWire(
  tensors: TensorMap,
  transfer?: ArrayBuffer[],
  arena?: ArrayBuffer,
  from = 0,
): WireTensorMap {
  const out: WireTensorMap = {};
  let free = from;
  for (const [name, tensor] of Object.entries(tensors)) {
    const type = tensor.type as Dtype;
    const dims = tensor.dims.map(Number);
    const data = tensor.data;
    if (arena && ArrayBuffer.isView(data)) {
      const at = Math.ceil(free / arenaAlignment) * arenaAlignment;
      if (at + data.byteLength <= arena.byteLength) {
        new Uint8Array(arena, at, data.byteLength).set(
          new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
        );
        out[name] = { type, dims, arenaOffset: at, byteLength: data.byteLength };
        free = at + data.byteLength;
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

/** Where the arena tensors of `wire` end: what follows is free. */
export function arenaEnd(wire: WireTensorMap): number {
  let end = 0;
  for (const t of Object.values(wire))
    if ("arenaOffset" in t) end = Math.max(end, t.arenaOffset + t.byteLength);
  return end;
}

/**
 * Wire form to tensors. Arena tensors are views of the arena (the worker, which runs on them in place), or,
 * with `copyOut`, copies (the server, whose next batch reuses the arena while these tensors are still read).
 */
export function fromWire(wire: WireTensorMap, arena?: ArrayBuffer, copyOut = false): TensorMap {
  const out: TensorMap = {};
  for (const [name, t] of Object.entries(wire)) {
    if ("data" in t) {
      out[name] = new ort.Tensor(t.type, t.data, t.dims);
      continue;
    }
    const array = dtypeInfo(t.type)?.array;
    if (!arena || !array) throw new Error(`tensor '${name}' is in a shared arena this side does not have`);
    const view = new array(arena, t.arenaOffset, t.byteLength / array.BYTES_PER_ELEMENT);
    out[name] = new ort.Tensor(t.type, copyOut ? view.slice() : view, t.dims) as ort.Tensor;
  }
  return out;
}
