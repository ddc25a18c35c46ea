import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type ExportHead,
  exportHeadOf,
  exportTaskNames,
  findTask,
  type TaskDefinition,
  type TaskName,
  taskDefinition,
  taskForArchitectures,
  taskForPipelineTag,
} from "../tasks.js";
import { errorMessage, UserError } from "../util/errors.js";
import type { Snapshot } from "./converter.js";

export type ExportTask = TaskName;

export interface TransformersConfig {
  model_type?: string;
  architectures?: string[];
  id2label?: Record<string, string>;
  [key: string]: unknown;
}

export interface DetectedTask {
  /** The task whose head is exported (sentence-similarity exports feature-extraction's). */
  task: ExportTask;
  /** What the Python bridge loads and names for it. */
  head: ExportHead;
  /** Where the task came from, for the report. */
  source: "--task" | "pipeline_tag" | "architectures" | "sentence-transformers";
}

function exported(task: TaskDefinition, source: DetectedTask["source"]): DetectedTask {
  return { ...exportHeadOf(task), source };
}

/** A --task value as the export task it names (aliases such as `ner` included); a UserError otherwise. */
export function parseExportTask(name: string): ExportTask {
  const task = findTask(name);
  if (!task) {
    throw new UserError(`--task '${name}' cannot be exported.`, {
      hint: `Use one of: ${exportTaskNames.join(", ")}.`,
    });
  }
  return exportHeadOf(task).task;
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
  if (explicit !== undefined)
    return exported(findTask(parseExportTask(explicit)) as TaskDefinition, "--task");
  const tagged = taskForPipelineTag(snapshot.pipelineTag);
  if (tagged) return exported(tagged, "pipeline_tag");
  const architectures = config.architectures ?? [];
  const named = taskForArchitectures(architectures);
  if (named) return exported(named, "architectures");
  if (snapshot.files.includes("modules.json"))
    return exported(taskDefinition("feature-extraction"), "sentence-transformers");
  const what = architectures.length > 0 ? `architecture ${architectures.join(", ")}` : "no architectures";
  throw new UserError(
    `Cannot tell which task to export for ${snapshot.repoId ?? snapshot.dir}: config.json names ${what}` +
      `${snapshot.pipelineTag ? ` and pipeline_tag '${snapshot.pipelineTag}' is not exportable` : ""}.`,
    { hint: `Pass --task (${exportTaskNames.join(", ")}).` },
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
