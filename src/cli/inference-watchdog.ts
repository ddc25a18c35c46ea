import { Worker } from "node:worker_threads";
import type { RunGuard } from "../engine/model.js";

/**
 * ONNX Runtime's Node binding runs inference synchronously on the main thread, so no timer there can fire
 * while a run is stuck. This watchdog waits on another thread: when one run lasts longer than the limit it
 * prints the error itself and kills the process (exit status 137), because nothing else can stop the run.
 */
const watchdogSource = `
const { workerData } = require("node:worker_threads");
const { writeSync } = require("node:fs");
const state = new Int32Array(workerData.state);
for (;;) {
  const generation = Atomics.load(state, 0);
  if (generation % 2 === 1) {
    if (Atomics.wait(state, 0, generation, workerData.timeoutMs) === "timed-out") {
      writeSync(2, workerData.message);
      process.kill(process.pid, "SIGKILL");
    }
  } else {
    Atomics.wait(state, 0, generation);
  }
}
`;

export interface InferenceWatchdog extends RunGuard {
  /** Stop the watchdog thread. */
  stop(): Promise<void>;
}

/** Start a watchdog that ends the process when one armed run lasts longer than `timeoutMs`. */
export function startInferenceWatchdog(timeoutMs: number, message: string): InferenceWatchdog {
  // Odd generation = a run is in progress; each arm/disarm moves to the next generation.
  const state = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(watchdogSource, {
    eval: true,
    workerData: { state: state.buffer, timeoutMs, message },
  });
  worker.unref();
  const step = () => {
    Atomics.add(state, 0, 1);
    Atomics.notify(state, 0);
  };
  return {
    arm: step,
    disarm: step,
    async stop() {
      await worker.terminate();
    },
  };
}
