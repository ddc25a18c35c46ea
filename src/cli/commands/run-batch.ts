import { openEncoderAnswerer } from "../../app/batch/encoder-answerer.js";
import {
  type BatchAnswerer,
  type BatchSummary,
  batchInputSize,
  runBatch,
} from "../../app/batch/run-batch.js";
import { generationRequestInput, requestSampling } from "../../app/generation-input.js";
import { resolveModelRef } from "../../app/resolve.js";
import { GenerationScheduler } from "../../engine/generation/generation-scheduler.js";
import { modelServingOptions } from "../../engine/serving-options.js";
import { UserError } from "../../util/errors.js";
import { log } from "../../util/log.js";
import { createBatchProgress } from "../batch-progress.js";
import { openGenerator } from "../generation/open-generator.js";
import { promptResult } from "../generation/run-prompt.js";
import { type SamplingFlags, samplingFromFlags } from "../generation/sampling-flags.js";
import { formatDuration } from "../progress-rate.js";

/** The `gpux run` flags `--batch` reads. */
export interface BatchRunFlags extends SamplingFlags {
  batch: string;
  output?: string;
  errors?: string;
  config?: string;
  provider?: string;
  maxBatchSize?: number;
  workers?: number;
  raw?: boolean;
  system?: string;
  timeout?: number;
  maxConcurrentSequences?: number;
  lineTimeout?: number;
  json?: boolean;
}

async function openAnswerer(
  ref: string | undefined,
  flags: BatchRunFlags,
): Promise<BatchAnswerer & { close(): Promise<void> }> {
  const loaded = await resolveModelRef(ref, { configPath: flags.config });
  if (loaded.config.task !== "text-generation") {
    if (flags.maxConcurrentSequences !== undefined) {
      throw new UserError("--max-concurrent-sequences applies to text-generation models only.", {
        hint: "Use --max-batch-size and --workers for this model, or leave the flag out.",
      });
    }
    for (const warning of loaded.warnings) log.warn(warning);
    return openEncoderAnswerer(loaded, {
      provider: flags.provider,
      maxBatchSize: flags.maxBatchSize,
      workers: flags.workers,
    });
  }
  const sampling = samplingFromFlags(flags);
  const opened = await openGenerator(ref, {
    config: flags.config,
    provider: flags.provider,
    timeoutSeconds: flags.timeout,
  });
  const { generator, model } = opened;
  const { maxConcurrentSequences } = modelServingOptions(loaded.config, {
    maxConcurrentSequences: flags.maxConcurrentSequences,
  });
  // continuous batching, as `gpux serve` answers concurrent requests: the lines share decode steps, and lines
  // wait beside the running ones so a finished sequence's slot is refilled at once. runBatch keeps `window`
  // lines in flight; a line past --line-timeout leaves that count before its aborted sequence leaves the loop
  // (at the next step), so up to maxConcurrentSequences more may be in the scheduler: room for them too.
  const window = 2 * maxConcurrentSequences;
  const scheduler = new GenerationScheduler(generator, {
    maxConcurrentSequences,
    maxWaitingSequences: window,
  });
  const meta = { model: model.name, provider: model.provider };
  return {
    window,
    async answer(request, signal) {
      const fields = request as Record<string, unknown>;
      const input = generationRequestInput(generator, fields, flags);
      const job = { input, sampling: requestSampling(fields, sampling), signal };
      return promptResult(scheduler.submit(job), meta);
    },
    close: () => opened.close(),
  };
}

function printSummary(summary: BatchSummary, output: string, errors: string): void {
  const lines = summary.answered + summary.errors;
  const seconds = summary.elapsedMs / 1000;
  const resumed = summary.resumedAfter > 0 ? ` (resumed after line ${summary.resumedAfter})` : "";
  const failed =
    summary.errors > 0
      ? `; ${summary.errors} ${summary.errors === 1 ? "line" : "lines"} failed: see ${errors}`
      : "";
  process.stderr.write(
    `answered ${summary.answered} of ${lines} lines in ${seconds < 60 ? `${seconds.toFixed(1)} s` : formatDuration(seconds)} ` +
      `(${(lines / Math.max(0.001, seconds)).toFixed(1)} lines/s)${resumed}, written to ${output}${failed}\n`,
  );
}

/** `gpux run MODEL --batch IN --output OUT`. */
export async function runBatchCommand(ref: string | undefined, flags: BatchRunFlags): Promise<void> {
  const output = flags.output;
  if (!output) {
    throw new UserError("--batch needs --output FILE: the answers are written there, one line each.", {
      hint: "Add --output answers.jsonl (a re-run with the same file resumes where it stopped).",
    });
  }
  const errors = flags.errors ?? `${output}.errors`;
  await batchInputSize(flags.batch);
  const answerer = await openAnswerer(ref, flags);
  const progress = createBatchProgress({
    json: flags.json,
    columns: !flags.json && process.stderr.isTTY ? () => process.stderr.columns || 80 : undefined,
  });
  let summary: BatchSummary;
  try {
    summary = await runBatch({
      input: flags.batch,
      output,
      errors,
      answerer,
      lineTimeoutSeconds: flags.lineTimeout,
      onProgress: (p) => progress.update(p),
    });
  } finally {
    progress.stop();
    await answerer.close();
  }
  if (flags.json) {
    const result = {
      event: "result",
      input: flags.batch,
      output,
      errors_file: errors,
      answered: summary.answered,
      errors: summary.errors,
      blank: summary.blank,
      resumed_after: summary.resumedAfter,
      elapsed_ms: summary.elapsedMs,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    printSummary(summary, output, errors);
  }
}
