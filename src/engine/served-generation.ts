import { Worker } from "node:worker_threads";
import type { LoadedConfig } from "../config/load-config.js";
import { taskDefinition } from "../tasks.js";
import { log } from "../util/log.js";
import type { GenerationJob } from "./generation/generation-scheduler.js";
import type { GenerationEvent } from "./generation/generator.js";
import type {
  FromGenerationWorker,
  GenerationWorkerInit,
  SchedulerCounts,
  ToGenerationWorker,
} from "./generation-protocol.js";
import { RemoteError, WorkerCrashedError } from "./serving-errors.js";
import type { ModelServingOptions } from "./serving-options.js";
import { workerEntry } from "./worker-entry.js";
import type { WorkerReady } from "./worker-protocol.js";

/** True when a model is served for text generation (gpux.yml `task:` whose pipeline is text-generation). */
export function servesGeneration(config: LoadedConfig["config"]): boolean {
  const task = config.task;
  return task !== undefined && task !== "raw" && taskDefinition(task).pipeline === "text-generation";
}

/** What /health, /info and /v1/models show of a generation model's scheduler. */
export interface GenerationLoad extends SchedulerCounts {
  max_concurrent_sequences: number;
  max_waiting_sequences: number;
}

const entryPoint = workerEntry("generation-worker");

/** The events of one sequence as they arrive from the worker, read by one consumer. */
class EventQueue {
  private readonly events: GenerationEvent[] = [];
  private failure?: Error;
  private wake?: () => void;

  push(event: GenerationEvent): void {
    this.events.push(event);
    this.wake?.();
  }

  fail(error: Error): void {
    this.failure = error;
    this.wake?.();
  }

  async next(): Promise<GenerationEvent> {
    while (this.events.length === 0) {
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
    return this.events.shift() as GenerationEvent;
  }
}

/**
 * A text-generation model behind the server: its session, generator and scheduler in one worker thread
 * (src/engine/generation-worker.ts says why), and this relay in the main thread. Each submitted sequence's
 * events come back as messages; an abort (the client left) or a consumer that stops reading ends it in the
 * worker, whose scheduler frees its slot.
 */
export class ServedGeneration {
  private counts: SchedulerCounts = { running: 0, waiting: 0 };
  private readonly sequences = new Map<number, EventQueue>();
  private nextId = 1;
  private exited = false;

  private constructor(
    private readonly worker: Worker,
    readonly ready: Omit<WorkerReady, "warmupError">,
    private readonly options: ModelServingOptions,
  ) {
    worker.on("message", (message: FromGenerationWorker) => this.receive(message));
    worker.on("error", (error) => log.warn(`generation worker failed: ${error.message}`));
  }

  /** Start the worker; resolves once its session is open and warmed up. `onExit`: it died afterwards. */
  static load(
    loaded: LoadedConfig,
    options: ModelServingOptions,
    onExit: (code: number) => void,
  ): Promise<ServedGeneration> {
    const init: GenerationWorkerInit = {
      loaded,
      provider: options.provider,
      intraOpNumThreads: options.intraOpNumThreads,
      nice: options.workerNice,
      limits: {
        maxConcurrentSequences: options.maxConcurrentSequences,
        maxWaitingSequences: options.maxWaitingSequences,
      },
    };
    const worker = new Worker(entryPoint[0], { ...entryPoint[1], workerData: init });
    return new Promise((resolve, reject) => {
      let started: ServedGeneration | undefined;
      worker.once("message", (message: FromGenerationWorker) => {
        if (message.kind === "ready") {
          const { kind: _kind, ...ready } = message;
          started = new ServedGeneration(worker, ready, options);
          resolve(started);
        } else if (message.kind === "load-error") {
          reject(new RemoteError(message.error.message, message.error.status, message.error.hint));
        }
      });
      worker.once("error", (error) => {
        if (!started) reject(error);
      });
      worker.once("exit", (code) => {
        if (!started) {
          reject(
            new RemoteError(`The generation worker exited (code ${code}) while loading the model.`, 500),
          );
          return;
        }
        started.exit(code, loaded.config.name);
        onExit(code);
      });
    });
  }

  get load(): GenerationLoad {
    return {
      ...this.counts,
      max_concurrent_sequences: this.options.maxConcurrentSequences,
      max_waiting_sequences: this.options.maxWaitingSequences,
    };
  }

  private send(message: ToGenerationWorker): void {
    if (!this.exited) this.worker.postMessage(message);
  }

  private receive(message: FromGenerationWorker): void {
    if (message.kind === "ready" || message.kind === "load-error") return;
    this.counts = { running: message.running, waiting: message.waiting };
    if (message.kind === "counts") return;
    const queue = this.sequences.get(message.id);
    if (!queue) return;
    if (message.kind === "error") {
      this.sequences.delete(message.id);
      queue.fail(new RemoteError(message.error.message, message.error.status, message.error.hint));
      return;
    }
    if (message.event.type === "done") this.sequences.delete(message.id);
    queue.push(message.event);
  }

  private exit(code: number, model: string): void {
    this.exited = true;
    this.counts = { running: 0, waiting: 0 };
    for (const queue of this.sequences.values()) {
      queue.fail(
        new WorkerCrashedError(
          `The generation worker of model '${model}' died (exit code ${code}) while generating.`,
          { hint: "Check the server log; restart the server to serve the model again." },
        ),
      );
    }
    this.sequences.clear();
  }

  /**
   * Admit one sequence in the worker (its scheduler refuses with 429 when full: the first event is then an
   * error). It ends when `signal` aborts (the client left) or when the consumer stops reading.
   */
  submit(job: GenerationJob): AsyncGenerator<GenerationEvent> {
    const id = this.nextId++;
    const queue = new EventQueue();
    this.sequences.set(id, queue);
    this.send({ kind: "submit", id, input: job.input, sampling: job.sampling });
    if (this.exited) queue.fail(new WorkerCrashedError("The generation worker has stopped."));
    return this.events(id, queue, job.signal);
  }

  private async *events(
    id: number,
    queue: EventQueue,
    signal?: AbortSignal,
  ): AsyncGenerator<GenerationEvent> {
    const abort = () => this.send({ kind: "abort", id });
    if (signal?.aborted) abort();
    signal?.addEventListener("abort", abort, { once: true });
    try {
      while (true) {
        const event = await queue.next();
        yield event;
        if (event.type === "done") return;
      }
    } finally {
      signal?.removeEventListener("abort", abort);
      // stopped reading early: end the sequence in the worker (its last events are dropped)
      if (this.sequences.delete(id)) abort();
    }
  }

  /**
   * Stop the worker once every sequence has finished; with `abandon` (past the shutdown deadline) the
   * sequences still decoding are ended first.
   */
  async stop(abandon: boolean): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.worker.once("exit", () => resolve()));
    this.send({ kind: "close", abandon });
    await exited;
  }
}
