import * as ort from "onnxruntime-node";
import { errorMessage, RuntimeFailure } from "../../util/errors.js";
import type { RunGuard } from "../model.js";
import type { BatchCache } from "./batch-cache.js";
import type { DecoderIo } from "./decoder-io.js";
import type { LogitsRow } from "./sampler.js";

/** One sequence's KV cache: the present tensors of its last step, fed back as the next step's past. */
export interface SequenceCache {
  past: Record<string, ort.Tensor>;
  /** Tokens the cache holds. */
  length: number;
}

/**
 * Runs a decoder one forward pass at a time: the prefill (the prompt after an empty cache) and each decode
 * step (one token after the cache). onnxruntime-node 1.30 copies every output into a new ArrayBuffer even
 * when a preallocated output tensor is given (checked: the result is not the fetch tensor), so binding
 * present.* to reused buffers would add a copy, not save one; the present tensors are fed back as they come
 * (inputs are read in place). What gpux can reuse it does: the attention mask is a view of one buffer of ones,
 * and only logits and the cache are fetched, for the last position when the graph takes num_logits_to_keep.
 * A graph without it (but for a merged decoder) computes logits for every prompt position, though only the
 * last is read: the prefill then reads all but the last token fetching only the cache (ONNX Runtime runs only
 * the nodes the fetches need, so the lm_head is skipped), then the last token as a decode step. On
 * bench/serve-generate's model (vocab 151 936, 128-token prompt) the cache-only pass took 515 ms against
 * 595 ms with logits, and the 78 MB logits tensor (and the garbage collection it set off) is gone; the step
 * after it costs ~40 ms.
 * Several sequences decode in one pass (forwardBatch) when the graph takes a per-row mask and positions.
 */
export class DecoderSession {
  private ones = new BigInt64Array(0);
  private readonly emptyPast: ort.Tensor;
  private readonly fetches: string[];
  private readonly cacheFetches: string[];
  /**
   * Whether a prefill skips the logits of all but its last token. Not for a merged decoder: its whole graph
   * sits in an If on use_cache_branch, which runs whole whatever is fetched, so splitting would only add a pass.
   */
  private readonly splitPrefill: boolean;
  private readonly keepLast?: ort.Tensor;
  /** The cache inputs, in the graph's layer order. */
  readonly cacheNames: string[];
  /**
   * Whether rows of different lengths can share a pass: the graph takes attention_mask (padding masked out)
   * and position_ids (each row's own positions; a graph that derives them from the past length would shift
   * a padded row's), and its batch dim is not fixed at 1.
   */
  readonly canBatch: boolean;

  constructor(
    readonly session: ort.InferenceSession,
    readonly io: DecoderIo,
    private readonly runGuard?: RunGuard,
  ) {
    const empty = io.cacheDtype === "float16" ? new Uint16Array(0) : new Float32Array(0);
    this.emptyPast = new ort.Tensor(io.cacheDtype as "float32", empty as Float32Array, [
      1,
      io.kvHeads,
      0,
      io.headDim,
    ]);
    this.cacheNames = io.layers.flatMap((layer) => [layer.pastKey, layer.pastValue]);
    const cacheMeta = session.inputMetadata.find((meta) => meta.name === io.layers[0]?.pastKey);
    const fixedToOne = cacheMeta?.isTensor === true && cacheMeta.shape[0] === 1;
    this.canBatch = io.attentionMask !== undefined && io.positionIds !== undefined && !fixedToOne;
    this.cacheFetches = io.layers.flatMap((layer) => [layer.presentKey, layer.presentValue]);
    this.fetches = [io.logits, ...this.cacheFetches];
    this.splitPrefill = io.logitsToKeep === undefined && io.useCacheBranch === undefined;
    if (io.logitsToKeep) {
      const spec = session.inputMetadata.find((meta) => meta.name === io.logitsToKeep);
      const rank = spec?.isTensor ? spec.shape.length : 0;
      this.keepLast = new ort.Tensor("int64", BigInt64Array.of(1n), rank === 0 ? [] : [1]);
    }
  }

  /** A cache holding nothing, for a new sequence. */
  emptyCache(): SequenceCache {
    const past: Record<string, ort.Tensor> = {};
    for (const layer of this.io.layers) {
      past[layer.pastKey] = this.emptyPast;
      past[layer.pastValue] = this.emptyPast;
    }
    return { past, length: 0 };
  }

  private mask(total: number): ort.Tensor {
    if (this.ones.length < total)
      this.ones = new BigInt64Array(Math.max(total, 2 * this.ones.length)).fill(1n);
    return new ort.Tensor("int64", this.ones.subarray(0, total), [1, total]);
  }

  /** Feed `ids` after what `cache` holds; the cache moves on and the last position's logits come back. */
  async forward(cache: SequenceCache, ids: readonly number[]): Promise<LogitsRow> {
    if (ids.length > 1 && this.splitPrefill) {
      await this.extend(cache, ids.slice(0, -1), this.cacheFetches);
      return this.forward(cache, ids.slice(-1));
    }
    const outputs = await this.extend(cache, ids, this.fetches);
    return lastLogits(outputs[this.io.logits] as ort.Tensor, 1)[0] as LogitsRow;
  }

  /** One pass of `ids` after what `cache` holds, fetching `fetches`; the cache takes its present tensors. */
  private async extend(
    cache: SequenceCache,
    ids: readonly number[],
    fetches: string[],
  ): Promise<ort.InferenceSession.ReturnType> {
    const io = this.io;
    const count = ids.length;
    const total = cache.length + count;
    const feeds: Record<string, ort.Tensor> = {
      [io.inputIds]: new ort.Tensor("int64", BigInt64Array.from(ids, BigInt), [1, count]),
      ...cache.past,
    };
    if (io.attentionMask) feeds[io.attentionMask] = this.mask(total);
    if (io.positionIds) {
      const positions = new BigInt64Array(count);
      for (let i = 0; i < count; i++) positions[i] = BigInt(cache.length + i);
      feeds[io.positionIds] = new ort.Tensor("int64", positions, [1, count]);
    }
    if (io.useCacheBranch) feeds[io.useCacheBranch] = new ort.Tensor("bool", [cache.length > 0], [1]);
    if (this.keepLast && io.logitsToKeep) feeds[io.logitsToKeep] = this.keepLast;
    const outputs = await this.run(feeds, fetches);
    for (const layer of io.layers) {
      cache.past[layer.pastKey] = outputs[layer.presentKey] as ort.Tensor;
      cache.past[layer.pastValue] = outputs[layer.presentValue] as ort.Tensor;
    }
    cache.length = total;
    return outputs;
  }

  /**
   * One decode step for every row of `batch`: `ids[row]` after that row's tokens; the batch moves on one
   * column (the present tensors become its past) and each row's logits come back, in row order.
   */
  async forwardBatch(batch: BatchCache, ids: readonly number[]): Promise<LogitsRow[]> {
    const io = this.io;
    const rows = ids.length;
    const total = batch.width + 1;
    const mask = new BigInt64Array(rows * total);
    for (let row = 0; row < rows; row++) {
      mask.fill(1n, row * total + (batch.width - (batch.lengths[row] as number)), (row + 1) * total);
    }
    const feeds: Record<string, ort.Tensor> = {
      [io.inputIds]: new ort.Tensor("int64", BigInt64Array.from(ids, BigInt), [rows, 1]),
      ...batch.past,
    };
    if (io.attentionMask) feeds[io.attentionMask] = new ort.Tensor("int64", mask, [rows, total]);
    if (io.positionIds) {
      feeds[io.positionIds] = new ort.Tensor("int64", BigInt64Array.from(batch.lengths, BigInt), [rows, 1]);
    }
    if (io.useCacheBranch) feeds[io.useCacheBranch] = new ort.Tensor("bool", [batch.width > 0], [1]);
    if (this.keepLast && io.logitsToKeep) feeds[io.logitsToKeep] = this.keepLast;
    const outputs = await this.run(feeds, this.fetches);
    for (const layer of io.layers) {
      batch.past[layer.pastKey] = outputs[layer.presentKey] as ort.Tensor;
      batch.past[layer.pastValue] = outputs[layer.presentValue] as ort.Tensor;
    }
    batch.width = total;
    for (let row = 0; row < rows; row++) batch.lengths[row] = (batch.lengths[row] as number) + 1;
    return lastLogits(outputs[io.logits] as ort.Tensor, rows);
  }

  private async run(
    feeds: Record<string, ort.Tensor>,
    fetches: string[],
  ): Promise<ort.InferenceSession.ReturnType> {
    this.runGuard?.arm();
    try {
      return await this.session.run(feeds, fetches);
    } catch (error) {
      throw new RuntimeFailure(`Generation step failed: ${errorMessage(error).split("\n")[0]}`, {
        hint: "Check that the ONNX file is a decoder with its KV cache (`gpux inspect`); run with --verbose for details.",
        cause: error,
      });
    } finally {
      this.runGuard?.disarm();
    }
  }
}

/** The last position's logits of each of `rows` rows ([rows, positions, vocab]). */
function lastLogits(logits: ort.Tensor, rows: number): LogitsRow[] {
  const vocab = logits.dims[logits.dims.length - 1] as number;
  const positions = logits.size / vocab / rows;
  const data = logits.data as Float32Array | Uint16Array;
  return Array.from({ length: rows }, (_, row) => ({
    data,
    offset: (row * positions + positions - 1) * vocab,
    vocab,
  }));
}
