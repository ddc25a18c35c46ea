import { stat } from "node:fs/promises";
import { readOnnxMetadata } from "../onnx/read-onnx-metadata.js";
import type { TensorSpec } from "../onnx/tensor-spec.js";
import type { Model } from "./model.js";

/** Everything a person or a tool wants to know about a loaded model; shared by inspect, build and /info. */
export interface ModelDescription {
  name: string;
  version: string;
  description?: string;
  task: string;
  model_path: string;
  config_path: string;
  size_bytes: number;
  provider: string;
  provider_attempts: Model["attempts"];
  /** gpux.yml model.version, when given. */
  model_version?: string;
  /** The model's own inputs, with gpux.yml's description beside each. */
  inputs: Array<TensorSpec & { description?: string }>;
  outputs: Array<TensorSpec & { labels?: string[]; description?: string }>;
  onnx: {
    ir_version?: number;
    producer?: string;
    producer_version?: string;
    opsets: Record<string, number>;
    metadata: Record<string, string>;
  };
  metadata: Record<string, unknown>;
}

/** What describeModel reads: a Model in the CLI, a served model in the server. */
export type DescribableModel = Pick<Model, "loaded" | "pipeline" | "attempts" | "inputs" | "outputs"> & {
  provider: string;
};

export async function describeModel(model: DescribableModel): Promise<ModelDescription> {
  const { config, modelPath, path } = model.loaded;
  const [onnx, file] = await Promise.all([readOnnxMetadata(modelPath), stat(modelPath)]);
  const inputConfig = new Map((config.inputs ?? []).map((input) => [input.name, input]));
  const outputConfig = new Map((config.outputs ?? []).map((output) => [output.name, output]));
  return {
    name: config.name,
    version: config.version,
    description: config.description,
    // gpux.yml's task: text-generation runs on the raw pipeline (generation is not a pipeline), yet is its task
    task: config.task ?? model.pipeline.task,
    model_path: modelPath,
    config_path: path,
    size_bytes: file.size,
    provider: model.provider,
    provider_attempts: model.attempts,
    model_version: config.model.version,
    inputs: model.inputs.map((spec) => {
      const description = inputConfig.get(spec.name)?.description;
      return description ? { ...spec, description } : spec;
    }),
    outputs: model.outputs.map((spec) => {
      const { labels, description } = outputConfig.get(spec.name) ?? {};
      return { ...spec, ...(labels ? { labels } : {}), ...(description ? { description } : {}) };
    }),
    onnx: {
      ir_version: onnx.irVersion,
      producer: onnx.producerName,
      producer_version: onnx.producerVersion,
      opsets: onnx.opsets,
      metadata: onnx.metadataProps,
    },
    metadata: config.metadata,
  };
}
