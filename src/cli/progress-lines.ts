import type { ProgressSink } from "../util/progress.js";

/** Progress as plain lines on stderr (stdout stays for results and --json). */
export function progressLines(prefix: string): ProgressSink {
  return {
    emit(event) {
      if (event.message) process.stderr.write(`${prefix}: ${event.message}\n`);
    },
  };
}
