import type { PipelineContext, TensorMap } from "../pipeline.js";
import { labelsFor, scoreFunctionFor } from "./labels.js";
import { applyScoreFunction, floatOutput, row } from "./scores.js";

export interface LabelScore {
  label: string;
  score: number;
}

/** Every class with its score for each row of a [batch, classes] output, best first. */
export function classifyRows(outputs: TensorMap, context: PipelineContext, rows: number): LabelScore[][] {
  const name = context.outputs[0]?.name;
  const { data, dims } = floatOutput(outputs, name && name in outputs ? name : undefined);
  const width = dims.length >= 2 ? (dims[dims.length - 1] as number) : data.length / rows;
  const labels = labelsFor(context, name, width);
  const fn = scoreFunctionFor(context, width);
  return Array.from({ length: rows }, (_, r) => {
    const scores = applyScoreFunction(row(data, r * width, width), fn);
    return scores
      .map((score, i) => ({ label: labels[i] as string, score }))
      .sort((a, b) => b.score - a.score);
  });
}
