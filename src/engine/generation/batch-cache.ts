import * as ort from "onnxruntime-node";

/**
 * The KV cache of several sequences decoding together: one tensor per cache input, [rows, kv_heads, width,
 * head_dim], each row LEFT-padded to the common width, so a row's tokens are the last `lengths[row]` columns.
 * Left padding keeps every row contiguous while each step appends one column to all of them; the padded
 * columns are masked out (attention_mask 0), which the exported graphs (eager attention, 2-D mask) turn into
 * exactly zero attention weight: the fixtures' greedy tokens are identical to their solo runs, logits within
 * 3e-6 (the matmuls' summation order).
 */
export interface BatchCache {
  past: Record<string, ort.Tensor>;
  /** Columns of every cache tensor. */
  width: number;
  /** Real (unpadded) tokens of each row. */
  lengths: number[];
}

/** Where one row's cache is now: row `row` of a batch (a sequence's own cache is a batch of one). */
export interface CacheRow {
  past: Record<string, ort.Tensor>;
  row: number;
  width: number;
  length: number;
}

type CacheData = Float32Array | Uint16Array;

function allocateLike(data: CacheData, size: number): CacheData {
  return data instanceof Uint16Array ? new Uint16Array(size) : new Float32Array(size);
}

/**
 * A new batch of `rows`, in that order, at the width of the longest: each row's tokens copied once, per
 * layer and head one contiguous block. Done only when the batch's membership changes (a sequence joins or
 * leaves), never per step: each step's present tensors are fed back as they come. A batch of one sequence's
 * own unpadded cache is used as it is, without a copy.
 */
export function packCacheRows(names: readonly string[], rows: readonly CacheRow[]): BatchCache {
  const lengths = rows.map((row) => row.length);
  const width = Math.max(0, ...lengths);
  const only = rows[0];
  if (rows.length === 1 && only && only.width === only.length) {
    const alone = Object.values(only.past)[0]?.dims[0] === 1;
    if (alone) return { past: only.past, width, lengths };
  }
  const past: Record<string, ort.Tensor> = {};
  for (const name of names) {
    const first = rows[0]?.past[name] as ort.Tensor;
    const [, heads, , headDim] = first.dims as [number, number, number, number];
    const out = allocateLike(first.data as CacheData, rows.length * heads * width * headDim);
    for (const [target, row] of rows.entries()) {
      const data = row.past[name]?.data as CacheData;
      const block = row.length * headDim;
      for (let head = 0; head < heads; head++) {
        const from = ((row.row * heads + head) * row.width + (row.width - row.length)) * headDim;
        const to = ((target * heads + head) * width + (width - row.length)) * headDim;
        out.set(data.subarray(from, from + block), to);
      }
    }
    past[name] = new ort.Tensor(first.type, out, [rows.length, heads, width, headDim]);
  }
  return { past, width, lengths };
}

/** Rows of `batch` as sources for the next pack (the rows that stay, by their index). */
export function rowsOf(batch: BatchCache, indices: readonly number[]): CacheRow[] {
  return indices.map((row) => ({
    past: batch.past,
    row,
    width: batch.width,
    length: batch.lengths[row] as number,
  }));
}
