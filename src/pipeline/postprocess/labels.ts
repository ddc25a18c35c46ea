import type { PipelineContext } from "../pipeline.js";
import type { ScoreFunction } from "./scores.js";

/**
 * Class names for an output with `count` classes: gpux.yml outputs[].labels, else config.json id2label,
 * else LABEL_0, LABEL_1, … (as transformers names unnamed classes).
 */
export function labelsFor(context: PipelineContext, outputName: string | undefined, count: number): string[] {
  const outputs = context.config.outputs ?? [];
  const configured = outputs.find((output) => output.name === outputName)?.labels ?? outputs[0]?.labels;
  if (configured && configured.length === count) return configured;
  const id2label = context.files.json("config.json")?.id2label as Record<string, unknown> | undefined;
  return Array.from({ length: count }, (_, i) => {
    const name = id2label?.[String(i)];
    return typeof name === "string" ? name : `LABEL_${i}`;
  });
}

/**
 * Score function as transformers picks it: gpux.yml postprocessing.function, else config.json problem_type
 * (multi-label: sigmoid, regression: none), else sigmoid for one class and softmax for several.
 */
export function scoreFunctionFor(context: PipelineContext, count: number): ScoreFunction {
  const configured = context.config.postprocessing?.function;
  if (configured) return configured;
  const problemType = context.files.json("config.json")?.problem_type;
  if (problemType === "regression") return "none";
  if (problemType === "multi_label_classification" || count === 1) return "sigmoid";
  return "softmax";
}
