import type { LoadedConfig } from "../../config/load-config.js";
import { benchmarkModel, type DurationStats } from "../../engine/benchmark.js";
import { Model } from "../../engine/model.js";
import { releaseTensorBuffers } from "../../runtime/buffer-pool.js";
import { type ComparableRow, comparableRows, compareKind, type EncoderKind } from "./comparable-rows.js";
import type { GenerationMeasurement } from "./measure-generation.js";

/** Batch sizes tried for the best batched throughput (texts per request; a text request holds 256 at most). */
export const throughputBatchSizes = [1, 8, 32] as const;

/** What one model's own process is asked to do (measure-in-child.ts). */
export interface MeasureJob {
  loaded: LoadedConfig;
  requests: unknown[];
  provider?: string;
  /** Timed and untimed runs at batch 1 (the batched runs take fewer, see below). */
  runs: number;
  warmup: number;
  /** Generation models: new tokens per answer, the same for every model. */
  maxTokens: number;
}

export interface BatchThroughput {
  batch_size: number;
  /** Requests answered per second, end to end. */
  per_second: number;
}

/** One encoder model's answers and figures, as its process reports them. */
export interface EncoderMeasurement {
  name: string;
  provider: string;
  kind: EncoderKind;
  /** Model.load: session creation and the pipeline's files. */
  load_ms: number;
  /** The comparable rows of each request's answer, in request order. */
  rows: ComparableRow[][];
  /** End-to-end latency of the first request at batch 1 (benchmarkModel), and every timed sample. */
  latency_ms: DurationStats;
  latency_samples_ms: number[];
  throughput: BatchThroughput[];
  /** The process's peak resident set before the model loaded (Node.js and ONNX Runtime alone), and overall. */
  baseline_rss_bytes: number;
  peak_rss_bytes: number;
}

export type ModelMeasurement = EncoderMeasurement | GenerationMeasurement;

/** A request whose answer failed, with its index, so the caller can name the dataset line. */
export class RequestFailure extends Error {
  constructor(
    readonly index: number,
    readonly error: unknown,
  ) {
    super(`request ${index} failed`);
  }
}

/**
 * `batch` requests merged into one: text fields become lists, tensors are concatenated along axis 0, other
 * fields must agree. Undefined when the requests cannot be merged (then only batch 1 is measured).
 */
export function mergeRequests(requests: readonly unknown[]): unknown {
  const objects = requests.filter((r): r is Record<string, unknown> => !!r && typeof r === "object");
  if (objects.length !== requests.length || objects.length === 0) return undefined;
  const keys = Object.keys(objects[0] as object).sort();
  const merged: Record<string, unknown> = {};
  for (const key of keys) {
    const values = objects.map((o) => o[key]);
    if (objects.some((o) => Object.keys(o).length !== keys.length || !(key in o))) return undefined;
    if (values.every((v) => typeof v === "string")) merged[key] = values;
    else if (values.every(Array.isArray)) merged[key] = values.flat(1);
    else if (values.every((v) => JSON.stringify(v) === JSON.stringify(values[0]))) merged[key] = values[0];
    else return undefined;
  }
  return merged;
}

export const rssBytes = () => process.resourceUsage().maxRSS * 1024;

async function answerRows(model: Model, kind: EncoderKind, requests: readonly unknown[]) {
  const rows: ComparableRow[][] = [];
  for (const [index, request] of requests.entries()) {
    try {
      const prepared = await model.pipeline.preprocess(request, model.context);
      const outputs = await model.runFeeds(prepared.feeds);
      const answer = model.pipeline.postprocess(outputs, prepared, model.context);
      rows.push(comparableRows(model, kind, outputs, prepared, answer));
      releaseTensorBuffers(prepared.feeds);
    } catch (error) {
      throw new RequestFailure(index, error);
    }
  }
  return rows;
}

/** Requests per second at each batch size the model takes (a model with a fixed batch axis stops at 1). */
async function batchedThroughput(model: Model, job: MeasureJob, atOne: number): Promise<BatchThroughput[]> {
  const results: BatchThroughput[] = [{ batch_size: 1, per_second: atOne }];
  for (const size of throughputBatchSizes.filter((s) => s > 1)) {
    const batch = mergeRequests(
      Array.from({ length: size }, (_, i) => job.requests[i % job.requests.length]),
    );
    if (batch === undefined) break;
    try {
      // as many texts as the batch-1 runs send, so each size takes about as long
      const runs = Math.max(3, Math.ceil(job.runs / size));
      const result = await benchmarkModel(model, batch, { runs, warmup: Math.min(job.warmup, 2) });
      results.push({ batch_size: size, per_second: result.throughput * size });
    } catch {
      break; // the graph's batch axis is fixed, or the batch is too large for it: the sizes so far stand
    }
  }
  return results;
}

/** Load the model, answer every request, time it (benchmarkModel), and read the process's peak memory. */
export async function measureModel(job: MeasureJob): Promise<EncoderMeasurement> {
  const baseline = rssBytes();
  const start = process.hrtime.bigint();
  const model = await Model.load(job.loaded, { provider: job.provider, origin: "cli" });
  const loadMs = Number(process.hrtime.bigint() - start) / 1e6;
  try {
    const kind = compareKind(model);
    const rows = await answerRows(model, kind, job.requests);
    const samples: number[] = [];
    const atOne = await benchmarkModel(model, job.requests[0], {
      runs: job.runs,
      warmup: job.warmup,
      onTimedRun: ({ endToEndMs }) => samples.push(endToEndMs),
    });
    const throughput = await batchedThroughput(model, job, atOne.throughput);
    return {
      name: model.name,
      provider: model.provider,
      kind,
      load_ms: loadMs,
      rows,
      latency_ms: atOne.end_to_end_ms,
      latency_samples_ms: samples,
      throughput,
      baseline_rss_bytes: baseline,
      peak_rss_bytes: rssBytes(),
    };
  } finally {
    await model.dispose();
  }
}
