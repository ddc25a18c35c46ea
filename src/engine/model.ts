import type * as ort from "onnxruntime-node";
import type { LoadedConfig } from "../config/load-config.js";
import type { Pipeline, PipelineContext, TensorMap } from "../pipeline/pipeline.js";
import { selectPipeline } from "../pipeline/select-pipeline.js";
import { type CreateSessionOptions, createSession, type ProviderAttempt } from "../runtime/create-session.js";
import type { ProviderName } from "../runtime/providers.js";
import { sessionSpecs } from "../runtime/session-io.js";
import type { TensorSpec } from "../runtime/tensor-spec.js";
import { errorMessage, RuntimeFailure } from "../util/errors.js";

export interface LoadModelOptions {
  /** Overrides gpux.yml runtime.provider / runtime.gpu.backend. */
  provider?: string;
  origin?: PipelineContext["origin"];
  /** Save ONNX Runtime's optimised graph here. */
  optimizedModelPath?: string;
}

/** A model ready to answer: its config, an open session, and the pipeline for its task. */
export class Model {
  private constructor(
    readonly loaded: LoadedConfig,
    readonly session: ort.InferenceSession,
    readonly provider: ProviderName,
    readonly attempts: ProviderAttempt[],
    readonly pipeline: Pipeline,
    readonly context: PipelineContext,
  ) {}

  /** Open the model described by a loaded gpux.yml. */
  static async load(loaded: LoadedConfig, options: LoadModelOptions = {}): Promise<Model> {
    const { config } = loaded;
    const sessionOptions: CreateSessionOptions = {
      provider: options.provider ?? config.runtime.provider ?? config.runtime.gpu?.backend ?? "auto",
      enableProfiling: config.runtime.enable_profiling,
      gpuMemoryLimit: config.runtime.gpu?.memory,
      intraOpNumThreads: config.runtime.threads,
      optimizedModelPath: options.optimizedModelPath,
    };
    const handle = await createSession(loaded.modelPath, sessionOptions);
    const { inputs, outputs } = sessionSpecs(handle.session);
    const context: PipelineContext = {
      config,
      dir: loaded.dir,
      inputs,
      outputs,
      origin: options.origin ?? "cli",
    };
    const pipeline = selectPipeline(config);
    return new Model(loaded, handle.session, handle.provider, handle.attempts, pipeline, context);
  }

  get name(): string {
    return this.loaded.config.name;
  }

  get inputs(): TensorSpec[] {
    return this.context.inputs;
  }

  get outputs(): TensorSpec[] {
    return this.context.outputs;
  }

  /** Run the session on ready feeds; `outputNames` limits what is fetched. */
  async runFeeds(feeds: TensorMap, outputNames?: readonly string[]): Promise<TensorMap> {
    try {
      return (await (outputNames
        ? this.session.run(feeds, outputNames as string[])
        : this.session.run(feeds))) as TensorMap;
    } catch (error) {
      throw new RuntimeFailure(
        `Inference failed for model '${this.name}': ${errorMessage(error).split("\n")[0]}`,
        {
          hint: "Check input shapes and values against `gpux inspect`; run with --verbose for details.",
          cause: error,
        },
      );
    }
  }

  /** Answer one JSON request through the model's pipeline (raw tensors when it has none). */
  async predict(request: unknown): Promise<unknown> {
    const prepared = await this.pipeline.preprocess(request, this.context);
    const outputs = await this.runFeeds(prepared.feeds);
    return this.pipeline.postprocess(outputs, prepared, this.context);
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
