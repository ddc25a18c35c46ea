import type { LoadedConfig } from "../config/load-config.js";
import type { TensorSpec } from "../onnx/tensor-spec.js";
import type { ProviderAttempt } from "../runtime/create-session.js";
import type { ArenaSpan } from "./arena-space.js";
import type { WireTensorMap } from "./wire-tensor.js";

/** What an inference worker is started with (workerData). */
export interface WorkerInit {
  loaded: LoadedConfig;
  provider?: string;
  intraOpNumThreads?: number;
  /** Nice value for the inference threads (0-19, higher = lower priority); 0 leaves it alone. */
  nice?: number;
}

/**
 * `run`: `arenaSpan` is the part of the shared arena this batch may use (its inputs lie there; the outputs go
 * after them); the rest is held by answers the server is still reading. `close`: release the session and let
 * the thread end (terminating it mid-run would abort the process).
 */
export type ToWorker =
  | { kind: "run"; id: number; feeds: WireTensorMap; arenaSpan?: ArenaSpan }
  | { kind: "close" };

/** An error as it crosses the boundary: message, hint and the HTTP status it should be answered with. */
export interface WireError {
  message: string;
  hint?: string;
  status: number;
}

/** What a worker reports once its session is open and warmed up. */
export interface WorkerReady {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  provider: string;
  attempts: ProviderAttempt[];
  warmupMs: number;
  warmupError?: string;
}

/** What a child process is sent first: its init, and the shared arena it was given (shared-arena.ts), if any. */
export interface ProcessInit {
  kind: "init";
  init: WorkerInit;
  arenaBytes?: number;
}

export type FromWorker =
  // sharedArena: the worker mapped the arena it was given; until it says so, tensors take the pipe
  | ({ kind: "ready"; sharedArena?: boolean } & WorkerReady)
  | { kind: "load-error"; error: WireError }
  // copiedBytes: output bytes copied into the arena, not written there by ONNX Runtime itself
  | { kind: "result"; id: number; outputs: WireTensorMap; computeMs: number; copiedBytes: number }
  | { kind: "error"; id: number; error: WireError };
