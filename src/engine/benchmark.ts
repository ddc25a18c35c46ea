import { releaseTensorBuffers } from "../runtime/buffer-pool.js";
import type { Model } from "./model.js";

/** Summary statistics of a series of durations in milliseconds. */
export interface DurationStats {
  mean: number;
  std: number;
  min: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

/** What `gpux run --benchmark --json` prints (docs/reference/cli.md): keys are part of the CLI's contract. */
export interface BenchmarkResult {
  model: string;
  provider: string;
  runs: number;
  warmup: number;
  /** Shape of each feed as sent to the session. */
  input_shapes: Record<string, number[]>;
  /** session.run only. */
  session_ms: DurationStats;
  /** Pre-processing (JSON → tensors) + session.run + post-processing (tensors → JSON), per call. */
  end_to_end_ms: DurationStats;
  /** Calls per second, end to end. */
  throughput: number;
}

export interface BenchmarkOptions {
  /** Timed calls. Default 100. */
  runs?: number;
  /** Untimed calls first, so caches and allocators settle. Default 10. */
  warmup?: number;
  /** Called with each timed call's durations (ms), e.g. to draw their distribution. Default: none. */
  onTimedRun?: (timing: { sessionMs: number; endToEndMs: number }) => void;
}

/** The p-th percentile (0–100) of ascending values, interpolated linearly between ranks. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  const lowValue = sorted[low] as number;
  return lowValue + ((sorted[high] as number) - lowValue) * (rank - low);
}

/** Mean, standard deviation, extremes and percentiles (linear interpolation) of durations. */
export function summarize(samples: readonly number[]): DurationStats {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = samples.reduce((sum, x) => sum + x, 0) / samples.length;
  const variance = samples.reduce((sum, x) => sum + (x - mean) ** 2, 0) / Math.max(1, samples.length - 1);
  return {
    mean,
    std: Math.sqrt(variance),
    min: sorted[0] ?? Number.NaN,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

const toMs = (start: bigint, end: bigint): number => Number(end - start) / 1e6;

/** Time a request through the model: the session call alone, and the whole predict path. */
export async function benchmarkModel(
  model: Model,
  request: unknown,
  options: BenchmarkOptions = {},
): Promise<BenchmarkResult> {
  const runs = options.runs ?? 100;
  const warmup = options.warmup ?? 10;
  const sessionMs: number[] = [];
  const endToEndMs: number[] = [];
  let inputShapes: Record<string, number[]> = {};
  for (let i = 0; i < warmup + runs; i++) {
    const start = process.hrtime.bigint();
    const prepared = await model.pipeline.preprocess(request, model.context);
    const beforeRun = process.hrtime.bigint();
    const outputs = await model.runFeeds(prepared.feeds);
    const afterRun = process.hrtime.bigint();
    model.pipeline.postprocess(outputs, prepared, model.context);
    releaseTensorBuffers(prepared.feeds);
    const end = process.hrtime.bigint();
    if (i === 0) {
      inputShapes = Object.fromEntries(
        Object.entries(prepared.feeds).map(([name, t]) => [name, t.dims.map(Number)]),
      );
    }
    if (i >= warmup) {
      sessionMs.push(toMs(beforeRun, afterRun));
      endToEndMs.push(toMs(start, end));
      options.onTimedRun?.({ sessionMs: toMs(beforeRun, afterRun), endToEndMs: toMs(start, end) });
    }
  }
  const e2e = summarize(endToEndMs);
  return {
    model: model.name,
    provider: model.provider,
    runs,
    warmup,
    input_shapes: inputShapes,
    session_ms: summarize(sessionMs),
    end_to_end_ms: e2e,
    throughput: runs / (endToEndMs.reduce((sum, x) => sum + x, 0) / 1000),
  };
}
