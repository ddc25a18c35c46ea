import type * as ort from "onnxruntime-node";
import type { GpuxConfig } from "../config/schema.js";
import type { TensorSpec } from "../runtime/tensor-spec.js";

/** Tensors keyed by input or output name. */
export type TensorMap = Record<string, ort.Tensor>;

/** What a pipeline knows about the model it serves. */
export interface PipelineContext {
  config: GpuxConfig;
  /** Folder of gpux.yml (tokenizer, preprocessor and label files are resolved against it). */
  dir: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
  /** Where the request came from: file paths for images are accepted from the CLI only. */
  origin?: "cli" | "http";
}

/** A request after pre-processing: the feeds, plus whatever post-processing needs to remember. */
export interface Prepared<State = unknown> {
  feeds: TensorMap;
  state: State;
}

/** Turns a JSON request into model feeds and model outputs into a JSON answer, for one task. */
export interface Pipeline<State = unknown> {
  readonly task: string;
  preprocess(request: unknown, context: PipelineContext): Promise<Prepared<State>>;
  postprocess(outputs: TensorMap, prepared: Prepared<State>, context: PipelineContext): unknown;
}
