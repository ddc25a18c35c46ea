import type { GenerationJob } from "./generation/generation-scheduler.js";
import type { GenerationEvent } from "./generation/generator.js";
import type {
  FromGenerationWorker,
  GenerationWorkerInit,
  SchedulerCounts,
  ToGenerationWorker,
} from "./generation-protocol.js";
import { RemoteError } from "./serving-errors.js";
import { type Isolation, startWorkerHost, type WorkerHost } from "./worker-host.js";
import type { WorkerReady } from "./worker-protocol.js";

export type GenerationReady = Omit<WorkerReady, "warmupError">;

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
 * The server's end of one generation worker: each submitted sequence's events come back as messages; an
 * abort (the client left) or a consumer that stops reading ends it in the worker, whose scheduler frees its
 * slot. When the worker dies, every sequence it held fails at once with the error `died` makes.
 */
export class GenerationWorkerLink {
  private counts: SchedulerCounts = { running: 0, waiting: 0 };
  private readonly sequences = new Map<number, EventQueue>();
  private nextId = 1;
  private exited = false;

  private constructor(private readonly host: WorkerHost<ToGenerationWorker, FromGenerationWorker>) {}

  /**
   * Start a worker; resolves once its session is open and warmed up. `died` is called if it ends afterwards
   * (with how, and how long it had been ready), after its sequences failed with the error it returns.
   */
  static start(
    isolation: Isolation,
    init: GenerationWorkerInit,
    died: (how: string, readyMs: number) => Error,
  ): Promise<{ link: GenerationWorkerLink; ready: GenerationReady }> {
    const host = startWorkerHost<ToGenerationWorker, FromGenerationWorker>(
      isolation,
      init,
      "generation-worker",
    );
    const link = new GenerationWorkerLink(host);
    return new Promise((resolve, reject) => {
      let readyAt: number | undefined;
      host.onMessage((message) => {
        if (message.kind === "ready") {
          readyAt = performance.now();
          const { kind: _kind, ...ready } = message;
          resolve({ link, ready });
        } else if (message.kind === "load-error") {
          reject(new RemoteError(message.error.message, message.error.status, message.error.hint));
        } else link.receive(message);
      });
      host.onError((error) => {
        if (readyAt === undefined) reject(error);
      });
      host.onExit((how) => {
        link.exited = true;
        link.counts = { running: 0, waiting: 0 };
        if (readyAt === undefined) {
          reject(new RemoteError(`The generation worker ended (${how}) while loading the model.`, 500));
          return;
        }
        const error = died(how, performance.now() - readyAt);
        for (const queue of link.sequences.values()) queue.fail(error);
        link.sequences.clear();
      });
    });
  }

  get load(): SchedulerCounts {
    return this.counts;
  }

  /** False once the worker has ended. */
  get alive(): boolean {
    return !this.exited;
  }

  private send(message: ToGenerationWorker): void {
    if (!this.exited) this.host.post(message, []);
  }

  private receive(message: Exclude<FromGenerationWorker, { kind: "ready" | "load-error" }>): void {
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

  /**
   * Admit one sequence in the worker (its scheduler refuses with 429 when full: the first event is then an
   * error). It ends when `signal` aborts (the client left) or when the consumer stops reading.
   */
  submit(job: GenerationJob): AsyncGenerator<GenerationEvent> {
    const id = this.nextId++;
    const queue = new EventQueue();
    this.sequences.set(id, queue);
    this.send({ kind: "submit", id, input: job.input, sampling: job.sampling });
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
    const exited = new Promise<void>((resolve) => this.host.onExit(() => resolve()));
    this.send({ kind: "close", abandon });
    await exited;
  }
}
