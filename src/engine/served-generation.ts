import type { LoadedConfig } from "../config/load-config.js";
import { taskDefinition } from "../tasks.js";
import { log } from "../util/log.js";
import type { GenerationJob } from "./generation/generation-scheduler.js";
import type { GenerationEvent } from "./generation/generator.js";
import type { GenerationWorkerInit, SchedulerCounts } from "./generation-protocol.js";
import { type GenerationReady, GenerationWorkerLink } from "./generation-worker-link.js";
import { RestartBackoff } from "./restart-backoff.js";
import { UnavailableError, WorkerCrashedError } from "./serving-errors.js";
import type { ModelServingOptions } from "./serving-options.js";

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

/** What the model serving a generation worker hears of its deaths and restarts (as WorkerPoolOptions). */
export interface GenerationSupervision {
  /** The worker died (it will be restarted). */
  onWorkerExit?(how: string): void;
  /** Its replacement is ready, or could not load (`error`): the model then stays down. */
  onWorkerRestarted?(error?: Error): void;
}

/**
 * A text-generation model behind the server: its session, generator and scheduler in one worker (a child
 * process by default, src/engine/generation-worker.ts says why), relayed by a GenerationWorkerLink. Like the
 * inference workers, a worker that dies is restarted: the sequences it held fail with a 503 and a hint, and
 * new ones are refused with a 503 until the replacement is up.
 */
export class ServedGeneration {
  private link?: GenerationWorkerLink;
  private readonly backoff = new RestartBackoff();
  private restartTimer?: NodeJS.Timeout;
  private restarting?: Promise<void>;
  private stopping = false;
  /** What the first worker reported; its replacements open the same files. */
  ready!: GenerationReady;

  private constructor(
    private readonly init: GenerationWorkerInit,
    private readonly options: ModelServingOptions,
    private readonly supervision: GenerationSupervision,
  ) {}

  /** Start the worker; resolves once its session is open and warmed up. */
  static async load(
    loaded: LoadedConfig,
    options: ModelServingOptions,
    supervision: GenerationSupervision = {},
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
    const served = new ServedGeneration(init, options, supervision);
    served.ready = await served.spawn();
    return served;
  }

  /** Start a worker and relay to it once it is ready. */
  private async spawn(): Promise<GenerationReady> {
    const { link, ready } = await GenerationWorkerLink.start(
      this.options.isolation,
      this.init,
      (how, readyMs) => this.died(how, readyMs),
    );
    this.link = link;
    return ready;
  }

  private get model(): string {
    return this.init.loaded.config.name;
  }

  get load(): GenerationLoad {
    return {
      ...(this.link?.load ?? { running: 0, waiting: 0 }),
      max_concurrent_sequences: this.options.maxConcurrentSequences,
      max_waiting_sequences: this.options.maxWaitingSequences,
    };
  }

  /** The worker is gone: schedule its replacement; returns the error its sequences fail with. */
  private died(how: string, readyMs: number): Error {
    this.link = undefined;
    if (this.stopping) {
      return new UnavailableError(`The generation worker of model '${this.model}' stopped (${how}).`);
    }
    const delay = this.backoff.delayAfter(readyMs);
    log.warn(
      `generation worker of model '${this.model}' ended (${how}); starting a new one${delay > 0 ? ` in ${delay / 1000} s` : ""}`,
    );
    this.supervision.onWorkerExit?.(how);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.restarting = this.restart().finally(() => {
        this.restarting = undefined;
      });
    }, delay);
    return new WorkerCrashedError(
      `The generation worker of model '${this.model}' died (${how}) while generating; it is being restarted.`,
      {
        hint: "Retry in a few seconds (GET /health answers 200 again once it is back). If the same request crashes it again, it makes ONNX Runtime abort: check the server log.",
      },
    );
  }

  private async restart(): Promise<void> {
    try {
      await this.spawn();
      if (this.stopping) return;
      this.supervision.onWorkerRestarted?.();
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      log.warn(`could not restart the generation worker of model '${this.model}': ${failure.message}`);
      this.supervision.onWorkerRestarted?.(failure);
    }
  }

  /**
   * Admit one sequence (the worker's scheduler refuses with 429 when full: the first event is then an error);
   * refused at once with a 503 while the worker is being restarted. It ends when `signal` aborts (the client
   * left) or when the consumer stops reading.
   */
  submit(job: GenerationJob): AsyncGenerator<GenerationEvent> {
    if (!this.link?.alive) {
      throw new UnavailableError(`Model '${this.model}' is restarting its generation worker.`, {
        hint: "Retry when GET /health answers 200.",
      });
    }
    return this.link.submit(job);
  }

  /**
   * Stop the worker once every sequence has finished (a restart under way is awaited, one not begun is
   * cancelled); with `abandon` (past the shutdown deadline) the sequences still decoding are ended first.
   */
  async stop(abandon: boolean): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    await this.restarting;
    await this.link?.stop(abandon);
  }
}
