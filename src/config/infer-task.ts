import { type TaskName, taskForArchitectures, taskForPipelineTag } from "../tasks.js";

/** The gpux task of a Hub model: what its pipeline_tag means, else what config.json architectures say. */
export function inferTask(pipelineTag: string | undefined, architectures: unknown): TaskName | undefined {
  return (taskForPipelineTag(pipelineTag) ?? taskForArchitectures(architectures))?.name;
}
