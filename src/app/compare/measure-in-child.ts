import { fork } from "node:child_process";
import { existsSync } from "node:fs";
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import { type GpuxError, NotFoundError, RuntimeFailure, UserError } from "../../util/errors.js";
import type { ChildError, FromChild } from "./child-messages.js";
import type { MeasureJob, ModelMeasurement } from "./measure-model.js";

const extension = extname(fileURLToPath(import.meta.url));
/**
 * compare-child.js beside this file; from dist/cli/ when the CLI bundle holds this module (its chunks sit one
 * folder under dist/); compare-child.ts when the sources run through tsx (tests), which the child inherits.
 */
function childScript(): string {
  const candidates = [`./compare-child${extension}`, "../app/compare/compare-child.js"];
  const paths = candidates.map((candidate) => fileURLToPath(new URL(candidate, import.meta.url)));
  return paths.find((path) => existsSync(path)) ?? (paths[0] as string);
}

/** The child's error as the class it was; `where` names the model, and the request when one failed. */
function rebuild(error: ChildError, where: (request?: number) => string): GpuxError {
  const message = `${where(error.request)}: ${error.message}`;
  const options = { hint: error.hint ?? "Run again with --verbose for details." };
  if (error.exit_code === 1) return new UserError(message, options);
  if (error.exit_code === 2) return new NotFoundError(message, options);
  return new RuntimeFailure(message, options);
}

/**
 * Measure one model in a process of its own (compare-child.ts), so that its load is cold and its peak RSS
 * is its own. The child's stderr is ours (warnings); its stdout is dropped, so --json output stays clean.
 */
export function measureInChild(
  job: MeasureJob,
  where: (request?: number) => string,
): Promise<ModelMeasurement> {
  return new Promise((resolve, reject) => {
    const child = fork(childScript(), [], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
    let settled = false;
    child.once("message", (reply: FromChild) => {
      settled = true;
      if (reply.kind === "result") resolve(reply.measurement);
      else reject(rebuild(reply.error, where));
    });
    child.once("error", (error) => {
      if (!settled) reject(new RuntimeFailure(`${where()}: cannot start its process: ${error.message}`));
      settled = true;
    });
    child.once("exit", (code, signal) => {
      if (settled) return;
      settled = true;
      reject(
        new RuntimeFailure(
          `${where()}: its process ended (${signal ?? `exit code ${code}`}) before answering.`,
          {
            hint: "The model may need more memory than is free; run it alone with `gpux run --benchmark`.",
          },
        ),
      );
    });
    child.send(job);
  });
}
