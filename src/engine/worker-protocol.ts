import type { LoadedConfig } from "../config/load-config.js";
import type { TensorSpec } from "../onnx/tensor-spec.js";
import type { ProviderAttempt } from "../runtime/create-session.js";
import type { WireTensorMap } from "./wire-tensor.js";

/** What an inference worker is started with (workerData). */
export interface WorkerInit {
  loaded: LoadedConfig;
  provider?: string;
  intraOpNumThreads?: number;
  /** Nice value for the inference threads (0-19, higher = lower priority); 0 leaves it alone. */
  nice?: number;
}

/** `close`: release the session and let the thread end (terminating it mid-run would abort the process). */
export type ToWorker = { kind: "run"; id: number; feeds: WireTensorMap } | { kind: "close" };

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

export type FromWorker =
  | ({ kind: "ready" } & WorkerReady)
  | { kind: "load-error"; error: WireError }
  | { kind: "result"; id: number; outputs: WireTensorMap; computeMs: number }
  | { kind: "error"; id: number; error: WireError };
