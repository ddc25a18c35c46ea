import type * as ort from "onnxruntime-node";
import type { NumericTensorData } from "../onnx/dtypes.js";

/**
 * Typed arrays handed back after a request, for the next request of the same dtype and length. Allocating a
 * fresh input buffer per inference made V8 collect garbage far more often (large ArrayBuffers count as
 * external memory); reusing them keeps `gpux run --benchmark` and single requests at the plain loop's speed.
 * Only buffers that `takeBuffer` gave out are ever taken back.
 */
/** The typed arrays the pool hands out (every numeric dtype but the 64-bit integers). */
export type PooledArray = Exclude<NumericTensorData, BigInt64Array | BigUint64Array>;
type PooledConstructor = new (length: number) => PooledArray;

const maxPerKey = 4;
/** Bound on what the pool holds, so a server fed many different input sizes cannot grow without end. */
const maxPooledBytes = 64 * 2 ** 20;
let pooledBytes = 0;
const free = new Map<PooledConstructor, Map<number, PooledArray[]>>();
const issued = new WeakSet<PooledArray>();

/** A typed array of this kind and length, reused when one was given back; its contents are arbitrary. */
export function takeBuffer(kind: PooledConstructor, length: number): PooledArray {
  const pooled = free.get(kind)?.get(length)?.pop();
  if (pooled) pooledBytes -= pooled.byteLength;
  const buffer = pooled ?? new kind(length);
  issued.add(buffer);
  return buffer;
}

/** Give the data of tensors that are no longer used back to the pool (e.g. feeds after the run). */
export function releaseTensorBuffers(tensors: Record<string, ort.Tensor>): void {
  for (const tensor of Object.values(tensors)) {
    const data = tensor.data as PooledArray;
    if (!issued.has(data)) continue;
    issued.delete(data);
    // A buffer transferred to a worker is detached (length 0) and cannot be reused.
    if (data.length === 0 || pooledBytes + data.byteLength > maxPooledBytes) continue;
    const kind = data.constructor as PooledConstructor;
    const byLength = free.get(kind) ?? new Map<number, PooledArray[]>();
    free.set(kind, byLength);
    const list = byLength.get(data.length) ?? [];
    if (list.length < maxPerKey) {
      list.push(data);
      pooledBytes += data.byteLength;
    }
    byLength.set(data.length, list);
  }
}
