import type { SchedulerLimits } from "./generation/generation-scheduler.js";
import type { GenerationEvent, GenerationInput } from "./generation/generator.js";
import type { SamplingRequest } from "./generation/sampling.js";
import type { WireError, WorkerInit, WorkerReady } from "./worker-protocol.js";

/** What a generation worker is started with (workerData). */
export interface GenerationWorkerInit extends WorkerInit {
  limits: SchedulerLimits;
}

/** The scheduler's counts, sent with every change the main thread should see. */
export interface SchedulerCounts {
  running: number;
  waiting: number;
}

/**
 * `submit` starts sequence `id`; `abort` ends it (its client left); `close` waits for every sequence (ending
 * them first with `abandon`), releases the session and lets the thread end.
 */
export type ToGenerationWorker =
  | { kind: "submit"; id: number; input: GenerationInput; sampling?: SamplingRequest }
  | { kind: "abort"; id: number }
  | { kind: "close"; abandon: boolean };

export type FromGenerationWorker =
  | ({ kind: "ready" } & Omit<WorkerReady, "warmupError">)
  | { kind: "load-error"; error: WireError }
  | ({ kind: "event"; id: number; event: GenerationEvent } & SchedulerCounts)
  | ({ kind: "error"; id: number; error: WireError } & SchedulerCounts)
  | ({ kind: "counts" } & SchedulerCounts);
