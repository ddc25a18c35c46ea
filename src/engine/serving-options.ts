import { availableParallelism } from "node:os";
import type { GpuxConfig } from "../config/schema.js";
import { UserError } from "../util/errors.js";
import { defaults } from "../util/settings.js";
import type { Isolation } from "./worker-host.js";

/** Per-model serving settings after flags, gpux.yml `serving:` and defaults are combined. */
export interface ModelServingOptions {
  /** Inference worker threads, each with its own session. Default 1. */
  workers: number;
  /** Rows per merged batch. Default 8 (1 when the model has no dynamic batch axis). */
  maxBatchSize: number;
  /** Wait for a fuller batch, in ms. Default 0: merge only what queued while workers were busy. */
  maxQueueDelayMs: number;
  /** Requests admitted at once (queued + running) before 429. Default 256. */
  maxConcurrency: number;
  /** text-generation: sequences decoding at once. Default 8. */
  maxConcurrentSequences: number;
  /** text-generation: sequences waiting for a slot before 429. Default 64. */
  maxWaitingSequences: number;
  /** Per-request deadline in ms before 504 (text-generation: until the first token). Default 30000. */
  timeoutMs: number;
  /** text-generation: deadline in ms for the whole answer (from arrival to its last token) before 504. Default 300000. */
  generationTimeoutMs: number;
  /** Execution provider override (--provider). */
  provider?: string;
  /** Intra-op threads per worker; default: the cores divided among the workers (all of them for 1). */
  intraOpNumThreads?: number;
  /** Nice value of the inference threads, so the HTTP event loop always gets the CPU first. Default 10; 0: off. */
  workerNice: number;
  /** Workers as child processes (a native abort kills one, which is restarted) or threads. Default process. */
  isolation: Isolation;
}

/** Flags given on the command line; each overrides the same setting in gpux.yml. */
export type ServingFlags = Partial<Omit<ModelServingOptions, "intraOpNumThreads">>;

/** The defaults live with every other default (util/settings.ts). */
const servingDefaults = defaults.serve;

/** Combine flags, a model's gpux.yml `serving:` (earlier names too: batch_size, max_workers, timeout in s). */
export function modelServingOptions(config: GpuxConfig, flags: ServingFlags = {}): ModelServingOptions {
  const serving = config.serving;
  const timeoutFromSeconds = serving?.timeout !== undefined ? serving.timeout * 1000 : undefined;
  const workers = flags.workers ?? serving?.workers ?? serving?.max_workers ?? servingDefaults.workers;
  const options: ModelServingOptions = {
    workers,
    maxBatchSize:
      flags.maxBatchSize ?? serving?.max_batch_size ?? serving?.batch_size ?? servingDefaults.maxBatchSize,
    maxQueueDelayMs: flags.maxQueueDelayMs ?? serving?.max_queue_delay_ms ?? servingDefaults.maxQueueDelayMs,
    maxConcurrency: flags.maxConcurrency ?? serving?.max_concurrency ?? servingDefaults.maxConcurrency,
    maxConcurrentSequences:
      flags.maxConcurrentSequences ??
      serving?.max_concurrent_sequences ??
      servingDefaults.maxConcurrentSequences,
    maxWaitingSequences:
      flags.maxWaitingSequences ?? serving?.max_waiting_sequences ?? servingDefaults.maxWaitingSequences,
    timeoutMs: flags.timeoutMs ?? serving?.timeout_ms ?? timeoutFromSeconds ?? servingDefaults.timeoutMs,
    generationTimeoutMs:
      flags.generationTimeoutMs ?? serving?.generation_timeout_ms ?? servingDefaults.generationTimeoutMs,
    provider: flags.provider,
    workerNice: flags.workerNice ?? serving?.worker_nice ?? servingDefaults.workerNice,
    isolation: flags.isolation ?? serving?.isolation ?? servingDefaults.isolation,
    intraOpNumThreads: workers > 1 ? Math.max(1, Math.floor(availableParallelism() / workers)) : undefined,
  };
  for (const key of ["workers", "maxBatchSize", "maxConcurrency", "maxConcurrentSequences"] as const) {
    if (!Number.isInteger(options[key]) || options[key] < 1)
      throw new UserError(`Serving setting ${key} must be an integer ≥ 1, got ${options[key]}.`);
  }
  if (!Number.isInteger(options.maxWaitingSequences) || options.maxWaitingSequences < 0)
    throw new UserError(`max_waiting_sequences must be an integer ≥ 0, got ${options.maxWaitingSequences}.`);
  if (!Number.isInteger(options.workerNice) || options.workerNice < 0 || options.workerNice > 19)
    throw new UserError(`worker_nice must be an integer from 0 to 19, got ${options.workerNice}.`);
  if (!(options.timeoutMs > 0))
    throw new UserError(`Serving timeout must be > 0 ms, got ${options.timeoutMs}.`);
  if (!(options.generationTimeoutMs > 0))
    throw new UserError(`generation_timeout_ms must be > 0 ms, got ${options.generationTimeoutMs}.`, {
      hint: "Set serving.generation_timeout_ms (--generation-timeout-ms) to a positive number of ms.",
    });
  if (!(options.maxQueueDelayMs >= 0))
    throw new UserError(`max_queue_delay_ms must be ≥ 0, got ${options.maxQueueDelayMs}.`);
  return options;
}
