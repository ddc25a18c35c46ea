import type { LoadedConfig } from "../config/load-config.js";
import { taskDefinition } from "../tasks.js";
import { log } from "../util/log.js";
import { type GenerationJob, GenerationScheduler } from "./generation/generation-scheduler.js";
import type { GenerationEvent, GenerationInput, TextGenerator } from "./generation/generator.js";
import { loadGenerator } from "./generation/load-generator.js";
import { Model } from "./model.js";
import type { ModelServingOptions } from "./serving-options.js";

/** True when a model is served for text generation (gpux.yml `task:` whose pipeline is text-generation). */
export function servesGeneration(config: LoadedConfig["config"]): boolean {
  const task = config.task;
  return task !== undefined && task !== "raw" && taskDefinition(task).pipeline === "text-generation";
}

/** What /health, /info and /v1/models show of a generation model's scheduler. */
export interface GenerationLoad {
  running: number;
  waiting: number;
  max_concurrent_sequences: number;
  max_waiting_sequences: number;
}

/** How often a stopping model checks whether its sequences have finished. */
const stopPollMs = 20;

/**
 * A text-generation model behind the server: one session in the server's own thread, its generator and one
 * scheduler. Unlike encoder models it needs no inference worker: ONNX Runtime's run is asynchronous (it
 * computes on its own threads), and what runs on the event loop per step (sampling, a token's decoding) is
 * small, so /health stays fast while sequences decode (test/server/openai-generation-load.test.ts measures it).
 */
export class ServedGeneration {
  /** Aborted at the shutdown deadline: every sequence still decoding ends. */
  private readonly stopping = new AbortController();

  private constructor(
    readonly model: Model,
    readonly generator: TextGenerator,
    readonly scheduler: GenerationScheduler,
    private readonly options: ModelServingOptions,
  ) {}

  static async load(loaded: LoadedConfig, options: ModelServingOptions): Promise<ServedGeneration> {
    const model = await Model.load(loaded, { provider: options.provider, origin: "http" });
    try {
      const generator = loadGenerator(model);
      const scheduler = new GenerationScheduler(generator, {
        maxConcurrentSequences: options.maxConcurrentSequences,
        maxWaitingSequences: options.maxWaitingSequences,
      });
      return new ServedGeneration(model, generator, scheduler, options);
    } catch (error) {
      await model.dispose();
      throw error;
    }
  }

  get load(): GenerationLoad {
    return {
      running: this.scheduler.running,
      waiting: this.scheduler.waiting,
      max_concurrent_sequences: this.options.maxConcurrentSequences,
      max_waiting_sequences: this.options.maxWaitingSequences,
    };
  }

  /**
   * Admit one sequence (QueueFullError, 429, when the scheduler is full); it ends when `signal` aborts (the
   * client left) or the server stops past its deadline.
   */
  submit(job: GenerationJob): AsyncGenerator<GenerationEvent> {
    const signal = job.signal ? AbortSignal.any([job.signal, this.stopping.signal]) : this.stopping.signal;
    return this.scheduler.submit({ ...job, signal });
  }

  /** A short generation, so the first request does not pay for ONNX Runtime's first runs. */
  async warmUp(): Promise<number> {
    const start = performance.now();
    const input: GenerationInput = { prompt: "Hello" };
    for await (const _event of this.generator.generate(input, { maxTokens: 2, temperature: 0, seed: 0 })) {
      // only the runs matter
    }
    return performance.now() - start;
  }

  /**
   * Close the session once every sequence has finished; with `abandon` (past the shutdown deadline) the
   * sequences still decoding are ended first.
   */
  async stop(abandon: boolean): Promise<void> {
    if (abandon) this.stopping.abort(new Error("the server stopped at its shutdown deadline"));
    while (this.scheduler.running > 0 || this.scheduler.waiting > 0) {
      await new Promise((resolve) => setTimeout(resolve, stopPollMs));
    }
    await this.model.dispose().catch((error: unknown) => log.warn(`closing a generation session: ${error}`));
  }
}
