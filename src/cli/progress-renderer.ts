import cliProgress from "cli-progress";
import type { ProgressEvent, ProgressSink } from "../util/progress.js";
import { formatBytes } from "./format-bytes.js";

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

/** Rate and ETA from the first and latest overall byte counts. */
function rateOf(started: number, bytes: number, total: number | undefined): string {
  const seconds = (Date.now() - started) / 1000;
  const rate = seconds > 0 ? bytes / seconds : 0;
  const eta = rate > 0 && total ? Math.max(0, (total - bytes) / rate) : undefined;
  return `${formatBytes(rate)}/s${eta !== undefined ? `, ETA ${eta.toFixed(0)} s` : ""}`;
}

/** Plain lines for logs and pipes: each file when it starts and ends, the total every few seconds. */
function lineRenderer(): ProgressRenderer {
  const started = Date.now();
  const seen = new Set<string>();
  // the first total line comes after a few seconds (a rate from the first milliseconds means nothing)
  let lastTotal = started;
  let finished = false;
  const line = (text: string) => process.stderr.write(`${text}\n`);
  return {
    emit(event: ProgressEvent) {
      if (event.phase === "download" && event.file) {
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
            `  ${formatBytes(event.bytes)} of ${formatBytes(event.total ?? 0)}, ${rateOf(started, event.bytes, event.total)}`,
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

/** Bars on a terminal: one per file in flight plus a total with rate and ETA. */
function barRenderer(): ProgressRenderer {
  const started = Date.now();
  const multi = new cliProgress.MultiBar(
    {
      format: " {name} |{bar}| {done} / {size} {extra}",
      barsize: 24,
      hideCursor: true,
      clearOnComplete: false,
      stream: process.stderr,
      autopadding: true,
    },
    cliProgress.Presets.shades_grey,
  );
  const bars = new Map<string, cliProgress.SingleBar>();
  let totalBar: cliProgress.SingleBar | undefined;
  const payload = (name: string, bytes: number, total: number, extra = "") => ({
    name: name.length > 36 ? `…${name.slice(-35)}` : name.padEnd(36),
    done: formatBytes(bytes),
    size: formatBytes(total),
    extra,
  });
  return {
    emit(event) {
      if (event.phase !== "download" || event.bytes === undefined) {
        if (event.phase === "resolve" || event.phase === "convert")
          multi.log(`${event.phase}: ${event.message ?? ""}\n`);
        return;
      }
      const total = event.total ?? 0;
      if (!event.file) {
        totalBar ??= multi.create(total, 0, payload("total", 0, total));
        totalBar.update(
          event.bytes,
          payload("total", event.bytes, total, rateOf(started, event.bytes, total)),
        );
        return;
      }
      let bar = bars.get(event.file);
      if (!bar) {
        bar = multi.create(total, 0, payload(event.file, 0, total));
        bars.set(event.file, bar);
      }
      bar.update(event.bytes, payload(event.file, event.bytes, total));
    },
    stop() {
      multi.stop();
    },
  };
}

/** The renderer for this output: NDJSON with --json, bars on a TTY, plain lines otherwise. */
export function createProgressRenderer(options: { json?: boolean }): ProgressRenderer {
  if (options.json) return ndjsonRenderer();
  return process.stderr.isTTY ? barRenderer() : lineRenderer();
}
