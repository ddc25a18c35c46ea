import type { BatchProgress } from "../app/batch/run-batch.js";
import { formatDuration } from "./progress-rate.js";

/** Draws a batch run's progress: one redrawn line on a terminal, NDJSON with --json, a line now and then else. */
export interface BatchProgressRenderer {
  update(progress: BatchProgress): void;
  /** The last frame; call before printing the summary. */
  stop(): void;
}

/** A terminal gets ten frames a second; NDJSON one event a second; a log one line every five seconds. */
const intervals = { bar: 100, json: 1000, lines: 5000 };

/** Lines per second in this run, and the time left by the bytes still to read at that pace. */
export function batchRate(progress: BatchProgress, elapsedMs: number): { perSecond: number; eta?: string } {
  const seconds = Math.max(0.001, elapsedMs / 1000);
  const lines = progress.answered + progress.errors;
  const bytesDone = progress.bytes - progress.startBytes;
  const left = progress.totalBytes - progress.bytes;
  const eta = bytesDone > 0 && seconds >= 0.5 ? formatDuration((left * seconds) / bytesDone) : undefined;
  return { perSecond: lines / seconds, eta };
}

function fraction(progress: BatchProgress): number {
  return progress.totalBytes > 0 ? Math.min(1, progress.bytes / progress.totalBytes) : 1;
}

/** "4,512 answered, 3 errors, 45%, 312 lines/s, ETA 17 s" (the ETA once the pace is known). */
function describe(progress: BatchProgress, elapsedMs: number): string {
  const { perSecond, eta } = batchRate(progress, elapsedMs);
  const percent = Math.floor(fraction(progress) * 100);
  const errors = progress.errors === 1 ? "1 error" : `${progress.errors} errors`;
  return `${progress.answered} answered, ${errors}, ${percent}%, ${perSecond.toFixed(1)} lines/s${eta ? `, ETA ${eta}` : ""}`;
}

export function createBatchProgress(options: {
  json?: boolean;
  /** stderr as a terminal: its width; undefined when stderr is not a terminal. */
  columns?: () => number;
  write?: (text: string) => void;
}): BatchProgressRenderer {
  const started = performance.now();
  const interval = options.json ? intervals.json : options.columns ? intervals.bar : intervals.lines;
  let last: BatchProgress | undefined;
  let drawnAt = Number.NEGATIVE_INFINITY;
  let drawn = false;
  const draw = (progress: BatchProgress) => {
    const elapsed = performance.now() - started;
    if (options.json) {
      const { perSecond } = batchRate(progress, elapsed);
      const event = {
        event: "progress",
        time: new Date().toISOString(),
        phase: "batch",
        answered: progress.answered,
        errors: progress.errors,
        resumed: progress.resumed,
        bytes: progress.bytes,
        total: progress.totalBytes,
        lines_per_second: Number(perSecond.toFixed(2)),
      };
      process.stdout.write(`${JSON.stringify(event)}\n`);
    } else if (options.columns) {
      const width = Math.max(20, options.columns() - 1);
      const text = ` ${describe(progress, elapsed)}`;
      const barWidth = Math.max(0, Math.min(30, width - text.length));
      const filled = Math.round(fraction(progress) * barWidth);
      const line = `${"█".repeat(filled)}${"░".repeat(barWidth - filled)}${text}`.slice(0, width);
      (options.write ?? ((t) => process.stderr.write(t)))(`\r\x1b[K${line}`);
      drawn = true;
    } else {
      process.stderr.write(`batch: ${describe(progress, elapsed)}\n`);
    }
  };
  return {
    update(progress) {
      last = progress;
      const now = performance.now();
      if (now - drawnAt < interval) return;
      drawnAt = now;
      draw(progress);
    },
    stop() {
      if (last && (options.columns || options.json)) draw(last);
      if (drawn) (options.write ?? ((t) => process.stderr.write(t)))("\n");
    },
  };
}
