import type * as ort from "onnxruntime-node";
import type { GpuxConfig } from "../config/schema.js";
import type { TensorSpec } from "../onnx/tensor-spec.js";
import type { ModelFiles } from "./model-files.js";
import type { TextItem } from "./text/read-text-request.js";
import type { Encoding } from "./text/special-tokens.js";
import type { EncodeOptions } from "./text/text-tokenizer.js";

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
  /** The files beside gpux.yml and the settings drawn from them, read once per model. */
  files: ModelFiles;
  /**
   * Set by the server: tokenizes texts in a thread of its own (the model's tokenizer loaded there), so that
   * long texts do not hold the HTTP thread. Absent (the CLI): texts are tokenized where they are read.
   */
  encodeOffThread?(items: readonly TextItem[], options: EncodeOptions): Promise<Encoding[]>;
}

/**
 * A request after pre-processing: the feeds, plus whatever post-processing needs to remember.
 * The server's batcher may merge several requests' feeds along axis 0 and split the outputs back; feeds
 * of different lengths along their last axis are padded with `padding[name]` (e.g. pad_token_id for
 * input_ids, 0 for attention_mask). So postprocess must accept outputs whose sequence axis is longer than
 * its own request's (extra positions are padding) and must rely on `state`, not on output shapes, for lengths.
 */
export interface Prepared<State = unknown> {
  feeds: TensorMap;
  state: State;
  /** Pad value per feed name for merging along the last axis; feeds absent here cannot be padded. */
  padding?: Record<string, number>;
}

/** Turns a JSON request into model feeds and model outputs into a JSON answer, for one task. */
export interface Pipeline<State = unknown> {
  readonly task: string;
  /**
   * Resolve, when the model loads, everything requests will read from the model's files (tokenizer, labels,
   * image settings), so no request touches the disk. A failure here is kept for the requests that need it.
   */
  load?(context: PipelineContext): void;
  preprocess(request: unknown, context: PipelineContext): Promise<Prepared<State>>;
  postprocess(outputs: TensorMap, prepared: Prepared<State>, context: PipelineContext): unknown;
}
