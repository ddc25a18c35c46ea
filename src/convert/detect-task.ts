import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { errorMessage, UserError } from "../util/errors.js";
import type { Snapshot } from "./converter.js";

/** Tasks the exporters know, with the heads and output names each one produces. */
export const exportTasks = [
  "text-classification",
  "token-classification",
  "question-answering",
  "feature-extraction",
  "fill-mask",
  "image-classification",
  "text-generation",
] as const;
export type ExportTask = (typeof exportTasks)[number];

/** Hub pipeline tags that are one of the export tasks under another name. */
const pipelineTagAliases: Record<string, ExportTask> = {
  "sentence-similarity": "feature-extraction",
  "zero-shot-classification": "text-classification",
  "sentiment-analysis": "text-classification",
  ner: "token-classification",
};

/** config.json `architectures` suffix → task; the head class decides, never the model's name. */
const architectureSuffixes: Array<[RegExp, ExportTask]> = [
  [/ForSequenceClassification$/, "text-classification"],
  [/ForTokenClassification$/, "token-classification"],
  [/ForQuestionAnswering$/, "question-answering"],
  [/ForMaskedLM$/, "fill-mask"],
  [/ForImageClassification(WithTeacher)?$/, "image-classification"],
  [/(ForCausalLM|LMHeadModel)$/, "text-generation"],
  [/Model$/, "feature-extraction"],
];

export interface TransformersConfig {
  model_type?: string;
  architectures?: string[];
  id2label?: Record<string, string>;
  [key: string]: unknown;
}

export interface DetectedTask {
  task: ExportTask;
  /** Where the task came from, for the report. */
  source: "--task" | "pipeline_tag" | "architectures" | "sentence-transformers";
}

function asExportTask(name: string): ExportTask | undefined {
  if ((exportTasks as readonly string[]).includes(name)) return name as ExportTask;
  return pipelineTagAliases[name];
}

/** A --task value as the export task it names (aliases such as `ner` included); a UserError otherwise. */
export function parseExportTask(name: string): ExportTask {
  const task = asExportTask(name);
  if (!task) {
    throw new UserError(`--task '${name}' cannot be exported.`, {
      hint: `Use one of: ${exportTasks.join(", ")}.`,
    });
  }
  return task;
}

/** config.json of a transformers checkpoint, with a clear error when it is absent or broken. */
export async function readTransformersConfig(snapshot: Snapshot): Promise<TransformersConfig> {
  const where = snapshot.repoId ?? snapshot.dir;
  if (!snapshot.files.includes("config.json")) {
    throw new UserError(`${where} has weights but no config.json, so the model cannot be rebuilt.`, {
      hint: "A transformers checkpoint needs config.json beside its weights; pull the full repo again.",
    });
  }
  try {
    return JSON.parse(await readFile(join(snapshot.dir, "config.json"), "utf8")) as TransformersConfig;
  } catch (error) {
    throw new UserError(`config.json in ${where} cannot be read: ${errorMessage(error)}`, {
      hint: "Pull the model again with --force.",
    });
  }
}

/** The task to export: --task, else the Hub's pipeline_tag, else config.json architectures. */
export function detectTask(
  config: TransformersConfig,
  snapshot: Snapshot,
  explicit: string | undefined,
): DetectedTask {
  if (explicit !== undefined) return { task: parseExportTask(explicit), source: "--task" };
  if (snapshot.pipelineTag) {
    const task = asExportTask(snapshot.pipelineTag);
    if (task) return { task, source: "pipeline_tag" };
  }
  const architectures = config.architectures ?? [];
  for (const architecture of architectures) {
    const match = architectureSuffixes.find(([pattern]) => pattern.test(architecture));
    if (match) return { task: match[1], source: "architectures" };
  }
  if (snapshot.files.includes("modules.json"))
    return { task: "feature-extraction", source: "sentence-transformers" };
  const named = architectures.length > 0 ? `architecture ${architectures.join(", ")}` : "no architectures";
  throw new UserError(
    `Cannot tell which task to export for ${snapshot.repoId ?? snapshot.dir}: config.json names ${named}` +
      `${snapshot.pipelineTag ? ` and pipeline_tag '${snapshot.pipelineTag}' is not exportable` : ""}.`,
    { hint: `Pass --task (${exportTasks.join(", ")}).` },
  );
}

/**
 * Opset per model family. 17 is the first with LayerNormalization as one op (what encoder graphs are made of);
 * a family that needs newer ops gets its own entry here; unlisted families get 17. --opset overrides.
 */
const familyOpsets: Record<string, number> = {
  "deberta-v2": 17,
  deberta: 17,
  vit: 17,
  bert: 17,
  distilbert: 17,
  roberta: 17,
};

export function defaultOpset(modelType: string | undefined): number {
  return (modelType && familyOpsets[modelType]) || 17;
}
