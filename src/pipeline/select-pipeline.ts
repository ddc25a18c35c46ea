import type { GpuxConfig } from "../config/schema.js";
import type { Pipeline, PipelineContext, Prepared, TensorMap } from "./pipeline.js";
import { rawPipeline } from "./raw-pipeline.js";
import { featureExtractionPipeline } from "./tasks/feature-extraction.js";
import { fillMaskPipeline } from "./tasks/fill-mask.js";
import { imageClassificationPipeline } from "./tasks/image-classification.js";
import { questionAnsweringPipeline } from "./tasks/question-answering.js";
import { textClassificationPipeline } from "./tasks/text-classification.js";
import { tokenClassificationPipeline } from "./tasks/token-classification.js";

type Task = NonNullable<GpuxConfig["task"]>;

const pipelines: Record<Exclude<Task, "raw">, Pipeline> = {
  "text-classification": textClassificationPipeline as Pipeline,
  "token-classification": tokenClassificationPipeline as Pipeline,
  "question-answering": questionAnsweringPipeline as Pipeline,
  "feature-extraction": featureExtractionPipeline("feature-extraction") as Pipeline,
  "sentence-similarity": featureExtractionPipeline("sentence-similarity") as Pipeline,
  "fill-mask": fillMaskPipeline as Pipeline,
  "image-classification": imageClassificationPipeline as Pipeline,
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
function withRawTensors(pipeline: Pipeline): Pipeline<Tagged> {
  return {
    task: pipeline.task,
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

/** The pipeline for a model's task (gpux.yml `task:`); raw tensors when there is none. */
export function selectPipeline(config: GpuxConfig): Pipeline {
  const task = config.task ?? "raw";
  if (task === "raw") return rawPipeline;
  return withRawTensors(pipelines[task]) as Pipeline;
}
