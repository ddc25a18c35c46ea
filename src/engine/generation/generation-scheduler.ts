import { QueueFullError } from "../serving-errors.js";
import type { GenerationEvent, GenerationInput, TextGenerator } from "./generator.js";
import type { SamplingRequest } from "./sampling.js";

export interface SchedulerLimits {
  /** Sequences decoding at once; the rest wait. */
  maxConcurrentSequences: number;
  /** Sequences that may wait for a slot; beyond it a request is refused with 429. */
  maxWaitingSequences: number;
}

/** One request to generate: what to read, how to sample, and a signal that ends it (a client gone). */
export interface GenerationJob {
  input: GenerationInput;
  sampling?: SamplingRequest;
  signal?: AbortSignal;
}

/**
 * Admits generation requests for one served model: at most maxConcurrentSequences run, up to
 * maxWaitingSequences wait, and more are refused (QueueFullError, 429). This first version runs the
 * admitted sequences side by side, each with its own forward passes; continuous batching (issue 12) keeps
 * this interface and shares the decode steps.
 */
export class GenerationScheduler {
  private runningCount = 0;
  private readonly queue: Array<() => void> = [];

  constructor(
    private readonly generator: TextGenerator,
    private readonly limits: SchedulerLimits,
  ) {}

  get running(): number {
    return this.runningCount;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /** Check admission at once (so a full queue is a 429 before any stream opens), then generate. */
  submit(job: GenerationJob): AsyncGenerator<GenerationEvent> {
    const full =
      this.runningCount >= this.limits.maxConcurrentSequences &&
      this.queue.length >= this.limits.maxWaitingSequences;
    if (full) {
      throw new QueueFullError(
        `Too many generation requests: ${this.runningCount} running and ${this.queue.length} waiting.`,
        { hint: "Retry shortly, or raise --max-concurrent-sequences." },
      );
    }
    return this.run(job);
  }

  private async *run(job: GenerationJob): AsyncGenerator<GenerationEvent> {
    if (this.runningCount >= this.limits.maxConcurrentSequences) {
      await new Promise<void>((resolve) => this.queue.push(resolve));
    } else {
      this.runningCount++;
    }
    try {
      yield* this.generator.generate(job.input, job.sampling, job.signal);
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.runningCount--;
    }
  }
}
