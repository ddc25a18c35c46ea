/**
 * The one table of what gpux knows about each task: its names, the Hub pipeline tags and config.json
 * architectures that mean it, how a transformers checkpoint of it is exported, and the pipeline that serves it.
 * Detection (pull and convert), gpux.yml's `task:`, the pipelines, the playground and the Python bridge's
 * export requests all read it; nothing else lists tasks.
 */

/** Every task gpux knows, in the order they are listed to users. */
export const taskNames = [
  "text-classification",
  "token-classification",
  "question-answering",
  "feature-extraction",
  "sentence-similarity",
  "fill-mask",
  "image-classification",
  "text-generation",
] as const;
export type TaskName = (typeof taskNames)[number];

/** The pipelines gpux has; `raw` answers tensors with tensors. */
export type PipelineName =
  | "text-classification"
  | "token-classification"
  | "question-answering"
  | "embedding"
  | "fill-mask"
  | "image-classification"
  | "text-generation"
  | "raw";

/** What the Python bridge needs to export a task's head: sent in its request, so it keeps no table of its own. */
export interface ExportHead {
  /** The transformers auto class that loads the head (the TensorFlow path prefixes "TF"). */
  auto_class: string;
  /** Output names in graph order, each with its varying axes (index → name); all vary along the batch. */
  outputs: Record<string, Record<number, string>>;
  /** Past key/values are graph inputs and outputs (a decoder reuses them from one token to the next). */
  kv_cache?: boolean;
}

export interface TaskDefinition {
  name: TaskName;
  /** Other names accepted for it (transformers' pipeline aliases), e.g. `ner`. */
  aliases: readonly string[];
  /** Hub `pipeline_tag` values that mean this task. */
  pipelineTags: readonly string[];
  /** config.json `architectures` patterns: the head class decides, never the model's name. */
  architectures: readonly RegExp[];
  /** How a checkpoint of this task is exported: its own head, or the task whose head it shares. */
  export: ExportHead | { as: TaskName };
  /** The pipeline that serves it. */
  pipeline: PipelineName;
  /** Whether the playground shows a second text box (`text_pair`). */
  textPair?: boolean;
  /** Whether requests are text (the playground shows a text box). */
  text: boolean;
}

const batch = { 0: "batch_size" };
const batchSequence = { 0: "batch_size", 1: "sequence_length" };

/** Architecture rules are tried in this order: feature-extraction's `Model$` must come after `LMHeadModel$`. */
export const taskTable: readonly TaskDefinition[] = [
  {
    name: "text-classification",
    aliases: ["sentiment-analysis"],
    pipelineTags: ["text-classification", "zero-shot-classification"],
    architectures: [/ForSequenceClassification$/],
    export: { auto_class: "AutoModelForSequenceClassification", outputs: { logits: batch } },
    pipeline: "text-classification",
    text: true,
  },
  {
    name: "token-classification",
    aliases: ["ner"],
    pipelineTags: ["token-classification"],
    architectures: [/ForTokenClassification$/],
    export: { auto_class: "AutoModelForTokenClassification", outputs: { logits: batchSequence } },
    pipeline: "token-classification",
    text: true,
  },
  {
    name: "question-answering",
    aliases: [],
    pipelineTags: ["question-answering"],
    architectures: [/ForQuestionAnswering$/],
    export: {
      auto_class: "AutoModelForQuestionAnswering",
      outputs: { start_logits: batchSequence, end_logits: batchSequence },
    },
    pipeline: "question-answering",
    text: true,
    textPair: true,
  },
  {
    name: "fill-mask",
    aliases: [],
    pipelineTags: ["fill-mask"],
    architectures: [/ForMaskedLM$/],
    export: { auto_class: "AutoModelForMaskedLM", outputs: { logits: batchSequence } },
    pipeline: "fill-mask",
    text: true,
  },
  {
    name: "image-classification",
    aliases: [],
    pipelineTags: ["image-classification"],
    architectures: [/ForImageClassification(WithTeacher)?$/],
    export: { auto_class: "AutoModelForImageClassification", outputs: { logits: batch } },
    pipeline: "image-classification",
    text: false,
  },
  {
    name: "text-generation",
    aliases: [],
    pipelineTags: ["text-generation"],
    architectures: [/ForCausalLM$/, /LMHeadModel$/],
    export: { auto_class: "AutoModelForCausalLM", outputs: { logits: batchSequence }, kv_cache: true },
    // pipeline/select-pipeline.ts serves it as a raw graph until the generation pipeline is added there (#11)
    pipeline: "text-generation",
    text: false,
  },
  {
    name: "feature-extraction",
    aliases: [],
    pipelineTags: ["feature-extraction"],
    architectures: [/(Model|ForFeatureExtraction)$/],
    export: { auto_class: "AutoModel", outputs: { last_hidden_state: batchSequence } },
    pipeline: "embedding",
    text: true,
    textPair: true,
  },
  {
    name: "sentence-similarity",
    aliases: [],
    pipelineTags: ["sentence-similarity"],
    architectures: [],
    export: { as: "feature-extraction" },
    pipeline: "embedding",
    text: true,
    textPair: true,
  },
];

const byName = new Map<string, TaskDefinition>(
  taskTable.flatMap((task) => [task.name, ...task.aliases].map((name) => [name, task] as const)),
);

/** The task a name or alias stands for (`ner` → token-classification). */
export function findTask(name: string): TaskDefinition | undefined {
  return byName.get(name);
}

/** The task a Hub pipeline_tag means, when gpux knows it. */
export function taskForPipelineTag(tag: string | undefined): TaskDefinition | undefined {
  return tag === undefined ? undefined : taskTable.find((task) => task.pipelineTags.includes(tag));
}

/** The task config.json `architectures` name (the first architecture that any rule matches). */
export function taskForArchitectures(architectures: unknown): TaskDefinition | undefined {
  for (const architecture of Array.isArray(architectures) ? architectures : []) {
    if (typeof architecture !== "string") continue;
    const task = taskTable.find((t) => t.architectures.some((pattern) => pattern.test(architecture)));
    if (task) return task;
  }
  return undefined;
}

/** The task whose head is exported for `task` (itself, or the one it shares), with that head. */
export function exportHeadOf(task: TaskDefinition): { task: TaskName; head: ExportHead } {
  if ("as" in task.export) return exportHeadOf(findTask(task.export.as) as TaskDefinition);
  return { task: task.name, head: task.export };
}

/** Tasks whose checkpoints export under their own name (what `--task` lists). */
export const exportTaskNames: readonly TaskName[] = taskTable
  .filter((task) => !("as" in task.export))
  .map((task) => task.name);

export function taskDefinition(name: TaskName): TaskDefinition {
  return byName.get(name) as TaskDefinition;
}
