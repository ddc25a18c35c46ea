import type { GpuxConfig } from "../config/schema.js";
import { UserError } from "../util/errors.js";
import type { Pipeline } from "./pipeline.js";
import { rawPipeline } from "./raw-pipeline.js";

/** The pipeline for a model's task (gpux.yml `task:`); raw tensors when there is none. */
export function selectPipeline(config: GpuxConfig): Pipeline {
  const task = config.task ?? "raw";
  if (task === "raw") return rawPipeline;
  throw new UserError(`Task '${task}' has no pipeline yet in this build of gpux.`, {
    hint: "Remove `task:` from gpux.yml to send raw tensors.",
  });
}
