import type { LoadedConfig } from "../../config/load-config.js";
import { ServedModel } from "../../engine/served-model.js";
import { modelServingOptions } from "../../engine/serving-options.js";
import type { BatchAnswerer } from "./run-batch.js";

export interface EncoderBatchOptions {
  provider?: string;
  /** Rows per session run; default gpux.yml `serving.max_batch_size`, else the serving default. */
  maxBatchSize?: number;
  /** Inference worker threads; default gpux.yml `serving.workers`, else 1. */
  workers?: number;
}

/** setTimeout's largest delay: a batch has no deadline per request, its queue is of its own making. */
const noDeadlineMs = 2_147_483_647;
/**
 * How long the first line waits for others to fill its batch. Without it the first line finds the worker idle
 * and runs alone (bench/batch: 1 of 7 session runs at 96 lines, batch 16); later batches are full when the
 * worker frees up, since the reader keeps a window of lines queued, so only the first and last wait.
 */
const fillDelayMs = 10;

/**
 * The answerer for models with one session call per request (every task but generation): the server's path,
 * a worker pool behind the dynamic batcher, so requests tokenized on this thread are merged into batches
 * of `maxBatchSize` rows while the worker runs the previous batch. The answers are `run --json`'s.
 */
export async function openEncoderAnswerer(
  loaded: LoadedConfig,
  options: EncoderBatchOptions = {},
): Promise<BatchAnswerer & { close(): Promise<void> }> {
  const serving = modelServingOptions(loaded.config, {
    provider: options.provider,
    maxBatchSize: options.maxBatchSize,
    workers: options.workers,
    timeoutMs: noDeadlineMs,
    maxQueueDelayMs: fillDelayMs,
    // nothing here must stay responsive the way an HTTP loop must: the model gets the CPU as raw code would
    workerNice: 0,
  });
  const served = new ServedModel(loaded, serving);
  // image paths in lines are read as `gpux run --image` reads them (the server refuses paths)
  served.context = { ...served.context, origin: "cli" };
  await served.start();
  // a batch for each worker running, and one more for each waiting in the queue
  const window = Math.min(serving.maxConcurrency, serving.maxBatchSize * (serving.workers + 2));
  return {
    window,
    async answer(request) {
      const started = performance.now();
      const { result } = await served.predict(request);
      return {
        model: served.name,
        provider: served.provider,
        elapsed_ms: performance.now() - started,
        result,
      };
    },
    close: () => served.stop(),
  };
}
