import { Worker } from "node:worker_threads";
import type { RunGuard } from "../engine/model.js";

/**
 * ONNX Runtime's Node binding runs inference synchronously on the main thread, so no timer there can fire
 * while a run is stuck. This watchdog checks from another thread: when one run has lasted longer than the
 * limit it prints the error itself and kills the process (exit status 137), as nothing else can stop the run.
 * Arming costs the main thread one clock read and one store: no thread is woken per inference.
 */
const watchdogSource = `
const { workerData } = require("node:worker_threads");
const { writeSync } = require("node:fs");
const startedAt = new Int32Array(workerData.startedAt);
setInterval(() => {
  const started = Atomics.load(startedAt, 0);
  if (started > 0 && Date.now() - workerData.base - started > workerData.timeoutMs) {
    writeSync(2, workerData.message);
    process.kill(process.pid, "SIGKILL");
  }
}, workerData.pollMs);
`;

export interface InferenceWatchdog extends RunGuard {
  /** Stop the watchdog thread. */
  stop(): Promise<void>;
}

/** Start a watchdog that ends the process when one armed run lasts longer than `timeoutMs`. */
export function startInferenceWatchdog(timeoutMs: number, message: string): InferenceWatchdog {
  // When the current run started, in ms after `base` (Date.now() is the one clock both threads share); 0 = idle.
  const base = Date.now() - 1;
  const startedAt = new Int32Array(new SharedArrayBuffer(4));
  const pollMs = Math.min(1000, Math.max(5, Math.round(timeoutMs / 20)));
  const worker = new Worker(watchdogSource, {
    eval: true,
    workerData: { startedAt: startedAt.buffer, base, timeoutMs, pollMs, message },
  });
  worker.unref();
  return {
    arm() {
      Atomics.store(startedAt, 0, Date.now() - base);
    },
    disarm() {
      Atomics.store(startedAt, 0, 0);
    },
    async stop() {
      await worker.terminate();
    },
  };
}
