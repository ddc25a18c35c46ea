import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { workerEntry, workerExecArgv, workerFile } from "./worker-entry.js";
import type { FromWorker, ToWorker, WorkerInit } from "./worker-protocol.js";

/**
 * Where a model's inference runs. "process": a child process, so a native abort inside ONNX Runtime (SIGABRT)
 * kills only that process, which the pool restarts; tensors cross the boundary as a copy through the IPC
 * pipe (bench/ipc-transfer.ts measures it). "thread": a worker thread in the server's process, tensors
 * transferred without a copy, but a native abort ends the whole server.
 */
export type Isolation = "process" | "thread";

export const isolations: readonly Isolation[] = ["process", "thread"];

/**
 * One worker, a thread or a process, behind one interface: an inference worker (the pool's) by default, or a
 * generation worker (ServedGeneration's), whose messages are its own.
 */
export interface WorkerHost<To extends object = ToWorker, From = FromWorker> {
  post(message: To, transfer: ArrayBuffer[]): void;
  onMessage(listener: (message: From) => void): void;
  onError(listener: (error: Error) => void): void;
  /** Once, when it ended: its exit code, or the signal that killed it. */
  onExit(listener: (how: string) => void): void;
  /** End it now, even mid-run. */
  kill(): void;
  /** The process id of a process host (tests kill it, as a native abort would). */
  readonly pid?: number;
}

/** The entry files a host can start (src/engine/NAME.ts). */
export type WorkerEntryName = "inference-worker" | "generation-worker";

function threadHost<To extends object, From>(name: WorkerEntryName, init: WorkerInit): WorkerHost<To, From> {
  const [entry, options] = workerEntry(name);
  const worker = new Worker(entry, { ...options, workerData: init });
  return {
    post: (message, transfer) => worker.postMessage(message, transfer),
    onMessage: (listener) => worker.on("message", listener),
    onError: (listener) => worker.on("error", listener),
    onExit: (listener) => worker.once("exit", (code) => listener(`exit code ${code}`)),
    kill: () => void worker.terminate(),
  };
}

function processHost<To extends object, From>(name: WorkerEntryName, init: WorkerInit): WorkerHost<To, From> {
  const child: ChildProcess = fork(fileURLToPath(workerFile(name)), [], {
    // typed arrays cross as typed arrays (structured clone), not as JSON
    serialization: "advanced",
    execArgv: [...workerExecArgv],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  child.send({ kind: "init", init });
  return {
    post: (message) => child.send(message),
    onMessage: (listener) => child.on("message", listener as (message: unknown) => void),
    onError: (listener) => child.on("error", listener),
    onExit: (listener) =>
      child.once("exit", (code, signal) => listener(signal ? `signal ${signal}` : `exit code ${code}`)),
    kill: () => void child.kill("SIGKILL"),
    pid: child.pid,
  };
}

export function startWorkerHost<To extends object = ToWorker, From = FromWorker>(
  isolation: Isolation,
  init: WorkerInit,
  name: WorkerEntryName = "inference-worker",
): WorkerHost<To, From> {
  return isolation === "process" ? processHost(name, init) : threadHost(name, init);
}
