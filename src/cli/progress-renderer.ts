import type { ProgressEvent, ProgressSink } from "../util/progress.js";
import { formatBytes } from "./format-bytes.js";
import { ProgressBars } from "./progress-bars.js";
import { TransferRate } from "./progress-rate.js";

export interface ProgressRenderer extends ProgressSink {
  /** Stop bars and flush; call before printing the result. */
  stop(): void;
}

/** NDJSON events on stdout (`--json`): one object per line with a timestamp. */
function ndjsonRenderer(): ProgressRenderer {
  return {
    emit(event) {
      process.stdout.write(
        `${JSON.stringify({ event: "progress", time: new Date().toISOString(), ...event })}\n`,
      );
    },
    stop() {},
  };
}

function rateText(rate: TransferRate, bytes: number, total = 0): string {
  const text = rate.describe(total - bytes);
  return text ? `, ${text}` : "";
}

/** Plain lines for logs and pipes: each file when it starts and ends, the total every few seconds. */
function lineRenderer(): ProgressRenderer {
  const started = Date.now();
  const rate = new TransferRate();
  const seen = new Set<string>();
  // the first total line comes after a few seconds (a rate from the first milliseconds means nothing)
  let lastTotal = started;
  let finished = false;
  const line = (text: string) => process.stderr.write(`${text}\n`);
  return {
    emit(event: ProgressEvent) {
      if (event.phase === "download" && event.file) {
        if (event.bytes !== undefined) rate.update(event.file, event.bytes);
        if (!seen.has(event.file)) {
          seen.add(event.file);
          line(`downloading ${event.file} (${formatBytes(event.total ?? 0)})`);
        }
      } else if (event.phase === "download" && event.bytes !== undefined) {
        const done = event.bytes === event.total;
        if ((Date.now() - lastTotal > 5000 && !done) || (done && !finished)) {
          lastTotal = Date.now();
          finished = done;
          line(
            `  ${formatBytes(event.bytes)} of ${formatBytes(event.total ?? 0)}${rateText(rate, event.bytes, event.total)}`,
          );
        }
      } else if (event.phase === "verify") {
        line(`${event.file}: ${event.message}`);
      } else if (event.message && event.phase !== "done") {
        line(`${event.phase}: ${event.message}`);
      }
    },
    stop() {},
  };
}

/** Bars on a terminal (progress-bars.ts). */
function barRenderer(): ProgressRenderer {
  const bars = new ProgressBars({
    write: (text) => process.stderr.write(text),
    columns: () => process.stderr.columns || 80,
  });
  return { emit: (event) => bars.emit(event), stop: () => bars.stop() };
}

/** The renderer for this output: NDJSON with --json, bars on a TTY, plain lines otherwise. */
export function createProgressRenderer(options: { json?: boolean }): ProgressRenderer {
  if (options.json) return ndjsonRenderer();
  return process.stderr.isTTY ? barRenderer() : lineRenderer();
}
