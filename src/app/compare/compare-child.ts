/**
 * The process one model of `gpux compare` runs in (measure-in-child.ts forks it): alone in its process, the
 * model's load time is a cold load and its peak memory (getrusage's maxRSS) is its own, not the others'.
 */
import { errorMessage, GpuxError } from "../../util/errors.js";
import type { ChildError, FromChild } from "./child-messages.js";
import { measureGeneration } from "./measure-generation.js";
import { type MeasureJob, measureModel, RequestFailure } from "./measure-model.js";

const measure = (job: MeasureJob) =>
  job.loaded.config.task === "text-generation" ? measureGeneration(job) : measureModel(job);

function childError(error: unknown): ChildError {
  const request = error instanceof RequestFailure ? error.index : undefined;
  const cause = error instanceof RequestFailure ? error.error : error;
  if (cause instanceof GpuxError) {
    return { message: cause.message, hint: cause.hint, exit_code: cause.exitCode, request };
  }
  return { message: `unexpected failure: ${errorMessage(cause)}`, exit_code: 3, request };
}

process.once("message", async (job: MeasureJob) => {
  let reply: FromChild;
  try {
    reply = { kind: "result", measurement: await measure(job) };
  } catch (error) {
    reply = { kind: "error", error: childError(error) };
  }
  process.send?.(reply, () => process.disconnect());
});
