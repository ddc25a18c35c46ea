import { type ChildProcess, fork } from "node:child_process";
import { closeSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { createArena } from "./shared-arena.js";
import { workerEntry, workerExecArgv, workerFile } from "./worker-entry.js";
import type { FromWorker, ProcessInit, ToWorker, WorkerInit } from "./worker-protocol.js";

/**
 * Where a model's inference runs. "process": a child process, so a native abort inside ONNX Runtime (SIGABRT)
 * kills only that process, which the pool restarts; tensors cross the boundary through memory the two share
 * (shared-arena.ts: written and read in place, the pipe carries offsets) or, without the native addon, as
 * copies through the IPC pipe (bench/ipc-transfer.ts measures both). "thread": a worker thread in the server's process, tensors
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
  /** The memory an inference process shares with the server for its tensors (none: the pipe). */
  readonly arena?: ArrayBuffer;
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
  // an inference worker's tensors are the ones worth sharing; a generation worker's are a few token ids
  const arena = name === "inference-worker" ? createArena() : undefined;
  let child: ChildProcess;
  try {
    child = fork(fileURLToPath(workerFile(name)), [], {
      // typed arrays cross as typed arrays (structured clone), not as JSON
      serialization: "advanced",
      execArgv: [...workerExecArgv],
      // the arena's file lands at childArenaFd (4) in the child
      stdio: ["ignore", "inherit", "inherit", "ipc", ...(arena ? [arena.fd] : [])],
    });
  } finally {
    if (arena) closeSync(arena.fd); // the child has its own descriptor now; the mapping stays
  }
  const first: ProcessInit = { kind: "init", init, arenaBytes: arena?.buffer.byteLength };
  child.send(first);
  return {
    post: (message) => child.send(message),
    onMessage: (listener) => child.on("message", listener as (message: unknown) => void),
    onError: (listener) => child.on("error", listener),
    onExit: (listener) =>
      child.once("exit", (code, signal) => listener(signal ? `signal ${signal}` : `exit code ${code}`)),
    kill: () => void child.kill("SIGKILL"),
    pid: child.pid,
    arena: arena?.buffer,
  };
}

export function startWorkerHost<To extends object = ToWorker, From = FromWorker>(
  isolation: Isolation,
  init: WorkerInit,
  name: WorkerEntryName = "inference-worker",
): WorkerHost<To, From> {
  return isolation === "process" ? processHost(name, init) : threadHost(name, init);
}
