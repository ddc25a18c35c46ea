import { QueueFullError } from "../serving-errors.js";
import { DecodeLoop, type DecodeLoopStats, type LoopEntry } from "./decode-loop.js";
import { EventChannel } from "./event-channel.js";
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
 * maxWaitingSequences wait, and more are refused (QueueFullError, 429). The running ones share decode steps
 * (continuous batching, DecodeLoop): each joins the batch after its prefill and leaves when it ends, and its
 * slot goes to the first waiting request at once.
 */
export class GenerationScheduler {
  private runningCount = 0;
  private readonly queue: LoopEntry[] = [];
  private readonly loop: DecodeLoop;

  constructor(
    private readonly generator: TextGenerator,
    private readonly limits: SchedulerLimits,
  ) {
    this.loop = new DecodeLoop(generator.decoder, () => this.release());
  }

  get running(): number {
    return this.runningCount;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /** What the decode loop has done so far (prefills, steps, rows per step, cache rebuilds). */
  get stats(): Readonly<DecodeLoopStats> {
    return this.loop.stats;
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
    // a bad request (empty prompt, over the context) throws here, before it takes a slot
    const sequence = this.generator.startSequence(job.input, job.sampling);
    const entry: LoopEntry = { sequence, events: new EventChannel(), signal: job.signal };
    const stopWaiting = () => {
      const at = this.queue.indexOf(entry);
      if (at < 0) return;
      this.queue.splice(at, 1);
      entry.events.push(sequence.abort());
      entry.events.close();
    };
    if (this.runningCount < this.limits.maxConcurrentSequences) {
      this.runningCount++;
      this.loop.add(entry);
    } else {
      this.queue.push(entry);
      job.signal?.addEventListener("abort", stopWaiting, { once: true });
      if (job.signal?.aborted) stopWaiting();
    }
    try {
      yield* entry.events.read();
    } finally {
      job.signal?.removeEventListener("abort", stopWaiting);
      stopWaiting();
    }
  }

  /** A sequence left the loop: its slot goes to the first waiting one, else it is free. */
  private release(): void {
    const next = this.queue.shift();
    if (next) this.loop.add(next);
    else this.runningCount--;
  }
}
