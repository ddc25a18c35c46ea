import type { GpuxConfig } from "../config/schema.js";
import { type PipelineName, type TaskName, taskDefinition } from "../tasks.js";
import type { Pipeline, PipelineContext, Prepared, TensorMap } from "./pipeline.js";
import { rawPipeline } from "./raw-pipeline.js";
import { embeddingPipeline } from "./tasks/feature-extraction.js";
import { fillMaskPipeline } from "./tasks/fill-mask.js";
import { imageClassificationPipeline } from "./tasks/image-classification.js";
import { questionAnsweringPipeline } from "./tasks/question-answering.js";
import { textClassificationPipeline } from "./tasks/text-classification.js";
import { tokenClassificationPipeline } from "./tasks/token-classification.js";

/**
 * Each pipeline by the name src/tasks.ts gives it. text-generation has none yet: such a model is served as a
 * raw graph until the generation pipeline is added here (#11).
 */
const pipelines: Record<Exclude<PipelineName, "text-generation">, Pipeline> &
  Partial<Record<PipelineName, Pipeline>> = {
  "text-classification": textClassificationPipeline as Pipeline,
  "token-classification": tokenClassificationPipeline as Pipeline,
  "question-answering": questionAnsweringPipeline as Pipeline,
  embedding: embeddingPipeline as Pipeline,
  "fill-mask": fillMaskPipeline as Pipeline,
  "image-classification": imageClassificationPipeline as Pipeline,
  raw: rawPipeline,
};

/** A request that names only model inputs is raw tensors, whatever the task. */
function isRawRequest(request: unknown, context: PipelineContext): boolean {
  if (!request || typeof request !== "object" || Array.isArray(request)) return false;
  const keys = Object.keys(request);
  const inputs = new Set(context.inputs.map((input) => input.name));
  return keys.length > 0 && keys.every((key) => inputs.has(key));
}

type Tagged = { raw: true } | { raw: false; inner: unknown };

/** The task's pipeline, still answering raw tensor requests (`{input_name: array}`) with raw outputs. */
function withRawTensors(pipeline: Pipeline, task: TaskName): Pipeline<Tagged> {
  return {
    task,
    load: pipeline.load,
    async preprocess(request, context): Promise<Prepared<Tagged>> {
      if (isRawRequest(request, context)) {
        const prepared = await rawPipeline.preprocess(request, context);
        return { ...prepared, state: { raw: true } };
      }
      const prepared = await pipeline.preprocess(request, context);
      return { ...prepared, state: { raw: false, inner: prepared.state } };
    },
    postprocess(outputs: TensorMap, prepared, context) {
      const state = prepared.state;
      if (state.raw) return rawPipeline.postprocess(outputs, { ...prepared, state: undefined }, context);
      return pipeline.postprocess(outputs, { ...prepared, state: state.inner }, context);
    },
  };
}

/** True when the answer to this request is the raw output tensors, decoded in full (no task post-processing). */
export function answersRawTensors(pipeline: Pipeline, prepared: Prepared): boolean {
  return pipeline.task === "raw" || (prepared.state as Tagged).raw === true;
}

/** The pipeline for a model's task (gpux.yml `task:`, served as src/tasks.ts says); raw tensors when none. */
export function selectPipeline(config: GpuxConfig): Pipeline {
  if (config.task === undefined || config.task === "raw") return rawPipeline;
  const pipeline = pipelines[taskDefinition(config.task).pipeline];
  if (!pipeline || pipeline === rawPipeline) return rawPipeline;
  return withRawTensors(pipeline, config.task) as Pipeline;
}

/**
 * Read and resolve at model load what the pipeline's requests will need. Errors are kept for those requests
 * (a text model without its tokenizer still loads, and answers raw tensor requests).
 */
export function loadPipelineFiles(pipeline: Pipeline, context: PipelineContext): void {
  try {
    pipeline.load?.(context);
  } catch {
    // kept in context.files: the first request that needs the file reports it
  }
}
