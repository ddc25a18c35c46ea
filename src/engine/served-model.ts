import type { LoadedConfig } from "../config/load-config.js";
import { isDynamicDim, type TensorSpec } from "../onnx/tensor-spec.js";
import { ModelFiles } from "../pipeline/model-files.js";
import type { Pipeline, PipelineContext, TensorMap } from "../pipeline/pipeline.js";
import { answersRawTensors, loadPipelineFiles, selectPipeline } from "../pipeline/select-pipeline.js";
import type { ProviderAttempt } from "../runtime/create-session.js";
import { errorMessage, UserError } from "../util/errors.js";
import { log } from "../util/log.js";
import { checkAnswerSize } from "./answer-limit.js";
import { describeModel, type ModelDescription } from "./describe-model.js";
import { type BatchObserver, DynamicBatcher, type InferResult } from "./dynamic-batcher.js";
import { ServedGeneration, servesGeneration } from "./served-generation.js";
import { UnavailableError } from "./serving-errors.js";
import type { ModelServingOptions } from "./serving-options.js";
import { TokenizerThread } from "./tokenizer-thread.js";
import { WorkerPool } from "./worker-pool.js";

/** "restarting": every inference worker (or the generation worker) died, say a native abort, and a new one is loading. */
export type ModelState = "loading" | "ready" | "restarting" | "failed" | "stopping";

/** Timings of one answered request, in milliseconds. */
export interface PredictTiming {
  queueMs: number;
  computeMs: number;
  batchRows: number;
}

/**
 * One model behind the server: its worker pool, batcher and pipeline, and whether it is ready; a
 * text-generation model has its generation session and scheduler instead (`generation`).
 */
export class ServedModel {
  state: ModelState = "loading";
  /** Why loading failed, when state is "failed". */
  failure?: string;
  pipeline: Pipeline;
  context: PipelineContext;
  provider = "";
  attempts: ProviderAttempt[] = [];
  warmupMs = 0;
  /** What GET /info and inspect show, read once the model is loaded (reading the .onnx takes ~0.2 s per 100 MB). */
  description?: ModelDescription;
  /** Set once a text-generation model is loaded. */
  generation?: ServedGeneration;
  /** Its loading, which a stop waits for: the worker must not outlive the server. */
  private generationStarting?: Promise<void>;
  private readonly pool: WorkerPool;
  private readonly batcher: DynamicBatcher;
  private readonly tokenizerThread: TokenizerThread;

  constructor(
    readonly loaded: LoadedConfig,
    readonly options: ModelServingOptions,
    private readonly observer?: BatchObserver,
  ) {
    this.pipeline = selectPipeline(loaded.config);
    const tokenizerThread = new TokenizerThread(loaded);
    this.tokenizerThread = tokenizerThread;
    this.context = {
      config: loaded.config,
      dir: loaded.dir,
      inputs: [],
      outputs: [],
      origin: "http",
      files: new ModelFiles(loaded.dir),
      encodeOffThread: (items, options) => tokenizerThread.encode(items, options),
    };
    this.pool = new WorkerPool({
      init: {
        loaded,
        provider: options.provider,
        intraOpNumThreads: options.intraOpNumThreads,
        nice: options.workerNice,
      },
      isolation: options.isolation,
      size: options.workers,
      onIdle: () => this.batcher.schedule(),
      onWorkerExit: () => {
        observer?.onWorkerRestart?.();
        if (this.pool.liveCount === 0 && this.state === "ready") this.state = "restarting";
      },
      onWorkerRestarted: (error) => {
        if (this.state !== "restarting") return;
        if (!error) this.state = "ready";
        else if (this.pool.liveCount === 0) {
          this.state = "failed";
          this.failure = `its inference worker could not be restarted: ${error.message}`;
        }
      },
    });
    this.batcher = new DynamicBatcher(
      this.pool,
      {
        model: loaded.config.name,
        maxBatchSize: options.maxBatchSize,
        maxQueueDelayMs: options.maxQueueDelayMs,
        maxConcurrency: options.maxConcurrency,
        timeoutMs: options.timeoutMs,
      },
      observer,
    );
  }

  get name(): string {
    return this.loaded.config.name;
  }

  get version(): string {
    return this.loaded.config.version;
  }

  get inputs(): TensorSpec[] {
    return this.context.inputs;
  }

  get outputs(): TensorSpec[] {
    return this.context.outputs;
  }

  /** Requests waiting for a worker (generation: for a slot), and admitted but unanswered. */
  get load(): { queued: number; inFlight: number } {
    if (this.generation) {
      const { running, waiting } = this.generation.load;
      return { queued: waiting, inFlight: running + waiting };
    }
    return { queued: this.batcher.queued, inFlight: this.batcher.inFlight };
  }

  /** True when gpux.yml serves this model for text generation (known before it is loaded). */
  get generates(): boolean {
    return servesGeneration(this.loaded.config);
  }

  /** True when every input and output has an open first dimension, so requests can be stacked on it. */
  get batchable(): boolean {
    return this.batcher.batchable;
  }

  /** Open the sessions in the workers and warm them up; the model is ready afterwards (or failed). */
  async start(): Promise<void> {
    if (this.generates) {
      this.generationStarting = this.startGeneration();
      return this.generationStarting;
    }
    try {
      const ready = await this.pool.start();
      this.context = { ...this.context, inputs: ready.inputs, outputs: ready.outputs };
      this.provider = ready.provider;
      this.attempts = ready.attempts;
      this.warmupMs = ready.warmupMs;
      if (ready.warmupError) log.warn(`model '${this.name}': warm-up run failed (${ready.warmupError})`);
      const openFirst = (spec: TensorSpec) =>
        spec.shape !== undefined && spec.shape.length > 0 && isDynamicDim(spec.shape[0] ?? 0);
      this.batcher.batchable = ready.inputs.every(openFirst) && ready.outputs.every(openFirst);
      loadPipelineFiles(this.pipeline, this.context);
      this.description = await describeModel(this);
      if (this.state === "loading") this.state = "ready";
    } catch (error) {
      this.state = "failed";
      this.failure = errorMessage(error);
      throw error;
    }
  }

  private async startGeneration(): Promise<void> {
    try {
      const generation = await ServedGeneration.load(this.loaded, this.options, {
        onWorkerExit: () => {
          this.observer?.onWorkerRestart?.();
          if (this.state === "ready") this.state = "restarting";
        },
        onWorkerRestarted: (error) => {
          if (this.state !== "restarting") return;
          if (!error) this.state = "ready";
          else {
            this.state = "failed";
            this.failure = `its generation worker could not be restarted: ${error.message}`;
          }
        },
      });
      const { inputs, outputs, provider, attempts, warmupMs } = generation.ready;
      this.context = { ...this.context, inputs, outputs };
      this.provider = provider;
      this.attempts = attempts;
      this.warmupMs = warmupMs;
      this.generation = generation;
      this.description = await describeModel(this);
      if (this.state === "loading") this.state = "ready";
    } catch (error) {
      this.state = "failed";
      this.failure = errorMessage(error);
      throw error;
    }
  }

  /** The generation session of a ready text-generation model (503 while it is not ready). */
  generator(): ServedGeneration {
    this.checkReady();
    if (!this.generation) {
      throw new UserError(`Model '${this.name}' is not a text-generation model.`, {
        hint: "Send its requests to /predict (or the route of its task).",
      });
    }
    return this.generation;
  }

  /** Generation models have no worker pool: their requests go through `generator()`. */
  private refuseGeneration(): void {
    if (!this.generation) return;
    throw new UserError(`Model '${this.name}' is served for text generation, not for tensor runs.`, {
      hint: 'Use POST /v1/chat/completions, /v1/completions, or /predict with {"prompt": …}.',
    });
  }

  private checkReady(): void {
    if (this.state === "ready") return;
    const why =
      this.state === "loading"
        ? "is still loading"
        : this.state === "stopping"
          ? "is shutting down"
          : this.state === "restarting"
            ? `is restarting its ${this.generates ? "generation" : "inference"} worker`
            : `failed to load: ${this.failure}`;
    throw new UnavailableError(`Model '${this.name}' ${why}.`, {
      hint:
        this.state === "loading" || this.state === "restarting"
          ? "Retry when GET /v2/health/ready answers 200."
          : "Check the server log.",
    });
  }

  /**
   * Run ready feeds (OIP): batched with other requests when the model allows it. The caller releases the
   * result once it has encoded the outputs.
   */
  infer(feeds: TensorMap, padding?: Record<string, number>): Promise<InferResult> {
    this.checkReady();
    this.refuseGeneration();
    return this.batcher.infer(feeds, padding);
  }

  /**
   * Answer one JSON request through the pipeline (raw tensors when the model has no task); raw answers of
   * more than `maxAnswerElements` values are refused before they are encoded.
   */
  async predict(
    request: unknown,
    maxAnswerElements = Number.POSITIVE_INFINITY,
  ): Promise<{ result: unknown; timing: PredictTiming }> {
    this.checkReady();
    this.refuseGeneration();
    const prepared = await this.pipeline.preprocess(request, this.context);
    const { outputs, release, queueMs, computeMs, batchRows } = await this.batcher.infer(
      prepared.feeds,
      prepared.padding,
    );
    try {
      if (answersRawTensors(this.pipeline, prepared)) {
        checkAnswerSize(outputs, Object.keys(outputs), maxAnswerElements);
      }
      // post-processing turns the tensors into plain JSON values: the arena they lie in is free after it
      const result = this.pipeline.postprocess(outputs, prepared, this.context);
      return { result, timing: { queueMs, computeMs, batchRows } };
    } finally {
      release();
    }
  }

  /**
   * Stop taking requests, answer those admitted, then stop the workers. Past the shutdown deadline
   * (`abandonQueued`), queued requests get 503 at once and only the batches already running are awaited.
   */
  async stop(options: { abandonQueued?: boolean } = {}): Promise<void> {
    if (this.state === "ready" || this.state === "loading" || this.state === "restarting")
      this.state = "stopping";
    if (this.generates) {
      await this.generationStarting?.catch(() => undefined);
      return this.generation?.stop(options.abandonQueued === true);
    }
    if (options.abandonQueued) {
      this.batcher.abandonQueued(
        new UnavailableError(`Model '${this.name}' stopped at the shutdown deadline.`, {
          hint: "Retry on another replica.",
        }),
      );
    }
    await this.batcher.drain();
    await Promise.all([this.pool.close(), this.tokenizerThread.close()]);
  }
}
