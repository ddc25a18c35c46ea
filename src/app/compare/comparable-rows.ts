import type { Model } from "../../engine/model.js";
import type { Prepared, TensorMap } from "../../pipeline/pipeline.js";
import { classifyRows } from "../../pipeline/postprocess/classify.js";
import { answersRawTensors } from "../../pipeline/select-pipeline.js";
import { tensorToFlatJson } from "../../runtime/decode-tensor.js";
import { taskDefinition } from "../../tasks.js";

/**
 * What one answer row is compared on. Classifiers: the top-1 label and every label's score (after the
 * model's softmax/sigmoid). Embedding models: the embedding (or a pair's similarity). Any other model: its
 * raw outputs, flattened in output order.
 */
export interface ComparableRow {
  label?: string;
  scores?: Record<string, number>;
  vector?: number[];
  /** Generation models: the greedy continuation's token ids. */
  tokens?: number[];
}

/** How answers of an encoder model are compared: by labels and scores, by embeddings, or by raw output values. */
export type EncoderKind = "classification" | "embedding" | "raw";
/** Generation models are compared on the tokens they generate. */
export type CompareKind = EncoderKind | "generation";

export function compareKind(model: Model): EncoderKind {
  const task = model.loaded.config.task;
  if (task === undefined || task === "raw") return "raw";
  const pipeline = taskDefinition(task).pipeline;
  if (pipeline === "text-classification" || pipeline === "image-classification") return "classification";
  return pipeline === "embedding" ? "embedding" : "raw";
}

function rawRow(outputs: TensorMap): ComparableRow {
  const vector: number[] = [];
  for (const tensor of Object.values(outputs)) {
    for (const value of tensorToFlatJson(tensor)) if (typeof value === "number") vector.push(value);
  }
  return { vector };
}

function embeddingRows(answer: unknown): ComparableRow[] | undefined {
  const items = Array.isArray(answer) ? answer : [answer];
  const rows: ComparableRow[] = [];
  for (const item of items) {
    const { embedding, score } = (item ?? {}) as { embedding?: unknown; score?: unknown };
    if (Array.isArray(embedding)) rows.push({ vector: (embedding as unknown[]).flat(2) as number[] });
    else if (typeof score === "number") rows.push({ vector: [score] });
    else return undefined;
  }
  return rows;
}

/** The rows of one answer: one per text (or image) of the request; raw tensors are a single row. */
export function comparableRows(
  model: Model,
  kind: EncoderKind,
  outputs: TensorMap,
  prepared: Prepared,
  answer: unknown,
): ComparableRow[] {
  if (kind === "raw" || answersRawTensors(model.pipeline, prepared)) return [rawRow(outputs)];
  if (kind === "embedding") return embeddingRows(answer) ?? [rawRow(outputs)];
  const first = Object.values(outputs)[0];
  const count = first && first.dims.length >= 2 ? Number(first.dims[0]) : 1;
  return classifyRows(outputs, model.context, count).map((scores) => ({
    label: scores[0]?.label,
    scores: Object.fromEntries(scores.map((s) => [s.label, s.score])),
  }));
}
