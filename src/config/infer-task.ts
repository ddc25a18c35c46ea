import { taskNames } from "./schema.js";

export type TaskName = (typeof taskNames)[number];

const architectureTasks: Array<[RegExp, TaskName]> = [
  [/ForSequenceClassification$/, "text-classification"],
  [/ForTokenClassification$/, "token-classification"],
  [/ForQuestionAnswering$/, "question-answering"],
  [/ForMaskedLM$/, "fill-mask"],
  [/ForImageClassification/, "image-classification"],
  [/(ForCausalLM|LMHeadModel)$/, "text-generation"],
  [/(Model|ForFeatureExtraction)$/, "feature-extraction"],
];

/** The gpux task of a Hub model: its pipeline_tag when gpux serves it, else what config.json architectures say. */
export function inferTask(pipelineTag: string | undefined, architectures: unknown): TaskName | undefined {
  if (pipelineTag && (taskNames as readonly string[]).includes(pipelineTag) && pipelineTag !== "raw")
    return pipelineTag as TaskName;
  for (const architecture of Array.isArray(architectures) ? architectures : []) {
    const match = architectureTasks.find(
      ([pattern]) => typeof architecture === "string" && pattern.test(architecture),
    );
    if (match) return match[1];
  }
  return undefined;
}
