import type * as ort from "onnxruntime-node";
import type { LoadedConfig } from "../config/load-config.js";
import type { ProviderName } from "../onnx/provider-names.js";
import type { TensorSpec } from "../onnx/tensor-spec.js";
import { ModelFiles } from "../pipeline/model-files.js";
import type { Pipeline, PipelineContext, TensorMap } from "../pipeline/pipeline.js";
import { loadPipelineFiles, selectPipeline } from "../pipeline/select-pipeline.js";
import { releaseTensorBuffers } from "../runtime/buffer-pool.js";
import type { ProviderAttempt } from "../runtime/create-session.js";
import { sessionSpecs } from "../runtime/session-io.js";
import { closeModelSession, openModelSession, runModelSession } from "./model-session.js";

/** Called around every session run, e.g. to enforce gpux.yml runtime.timeout (see cli/inference-watchdog.ts). */
export interface RunGuard {
  arm(): void;
  disarm(): void;
}

export interface LoadModelOptions {
  /** Overrides gpux.yml runtime.provider / runtime.gpu.backend. */
  provider?: string;
  origin?: PipelineContext["origin"];
  /** Save ONNX Runtime's optimised graph here. */
  optimizedModelPath?: string;
  /** Armed before and disarmed after each session run. Default: none. */
  runGuard?: RunGuard;
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
    private readonly runGuard?: RunGuard,
  ) {}

  /** Open the model described by a loaded gpux.yml. */
  static async load(loaded: LoadedConfig, options: LoadModelOptions = {}): Promise<Model> {
    const { config } = loaded;
    const handle = await openModelSession(loaded, {
      provider: options.provider,
      optimizedModelPath: options.optimizedModelPath,
    });
    const { inputs, outputs } = sessionSpecs(handle.session);
    const context: PipelineContext = {
      config,
      dir: loaded.dir,
      inputs,
      outputs,
      origin: options.origin ?? "cli",
      files: new ModelFiles(loaded.dir),
    };
    const pipeline = selectPipeline(config);
    loadPipelineFiles(pipeline, context);
    return new Model(
      loaded,
      handle.session,
      handle.provider,
      handle.attempts,
      pipeline,
      context,
      options.runGuard,
    );
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
    this.runGuard?.arm();
    try {
      return await runModelSession(this.session, this.name, feeds, outputNames);
    } finally {
      this.runGuard?.disarm();
    }
  }

  /** Answer one JSON request through the model's pipeline (raw tensors when it has none). */
  async predict(request: unknown): Promise<unknown> {
    const prepared = await this.pipeline.preprocess(request, this.context);
    const outputs = await this.runFeeds(prepared.feeds);
    const result = this.pipeline.postprocess(outputs, prepared, this.context);
    releaseTensorBuffers(prepared.feeds);
    return result;
  }

  /** Close the session; with runtime.enable_profiling, ONNX Runtime writes its profile now. */
  async dispose(): Promise<void> {
    await closeModelSession(this.session, this.loaded);
  }
}
