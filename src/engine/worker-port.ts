import { parentPort, workerData } from "node:worker_threads";
import { mapChildArena } from "./shared-arena.js";
import type { FromWorker, ProcessInit, ToWorker, WorkerInit } from "./worker-protocol.js";

/**
 * A worker's side of the boundary: its init, and messages to and from the server (an inference worker's by
 * default; a generation worker names its own).
 */
export interface WorkerPort<Init = WorkerInit, From = FromWorker, To = ToWorker> {
  init: Init;
  /** The memory this worker process shares with the server for tensors (shared-arena.ts), if it was given one. */
  arena?: ArrayBuffer;
  /** Buffers in `transfer` move to a thread's parent; to a parent process they are copied. */
  post(message: From, transfer: ArrayBuffer[]): void;
  onMessage(listener: (message: To) => void): void;
  /** Let this worker end once its work is done. */
  close(): void;
}

/** The port of a worker thread (workerData, parentPort) or of a child process (the IPC channel). */
export async function openWorkerPort<
  Init extends WorkerInit = WorkerInit,
  From = FromWorker,
  To = ToWorker,
>(): Promise<WorkerPort<Init, From, To>> {
  const thread = parentPort;
  if (thread) {
    return {
      init: workerData as Init,
      post: (message, transfer) => thread.postMessage(message, transfer),
      onMessage: (listener) => thread.on("message", listener),
      close: () => thread.close(),
    };
  }
  const send = process.send?.bind(process);
  if (!send) throw new Error("a worker must run in a worker thread or a forked process");
  // the server went away (killed, crashed): a worker never outlives it
  process.on("disconnect", () => process.exit(0));
  // Ctrl-C signals the whole process group, and systemd's stop the whole cgroup: the server decides when its
  // workers end (after the requests in flight), so a worker ignores them and ends with its server
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => undefined);
  const first = await new Promise<ProcessInit>((resolve) => process.once("message", resolve));
  const arena = first.arenaBytes ? mapChildArena(first.arenaBytes) : undefined;
  let sent: Promise<unknown> = Promise.resolve();
  return {
    init: first.init as Init,
    arena,
    post: (message) => {
      sent = new Promise((resolve) => send(message, undefined, {}, resolve));
    },
    onMessage: (listener) => process.on("message", listener as (message: unknown) => void),
    // after the last message has left (a load error must reach the server before the channel closes)
    close: () => void sent.then(() => process.disconnect()),
  };
}
