import { statSync } from "node:fs";
import { resolve } from "node:path";
import { parseModelRef } from "../registry/registries.js";
import { GpuxError, NotFoundError } from "../util/errors.js";
import type { ProgressSink } from "../util/progress.js";
import { didYouMeanHint } from "./find-in-store.js";
import { type PullModelResult, pullModel } from "./pull-model.js";
import { looksLikePath, resolveModelRef } from "./resolve.js";

/** `--pull` of `gpux run` / `gpux serve`, as `docker run --pull`: when to fetch a registry reference first. */
export const pullPolicies = ["missing", "always", "never"] as const;
export type PullPolicy = (typeof pullPolicies)[number];

export interface PullIfMissingOptions {
  /** Default "missing": pull only what resolves to nothing here. "always" asks the registry each time. */
  policy?: PullPolicy;
  progress?: ProgressSink;
  /** Default process.cwd(). */
  cwd?: string;
}

/** True when `ref` is a registry reference (not a path, not a folder here) that some registry can read. */
function isRegistryRef(ref: string, cwd: string): boolean {
  if (looksLikePath(ref) || statSync(resolve(cwd, ref), { throwIfNoEntry: false })) return false;
  try {
    parseModelRef(ref);
    return true;
  } catch {
    return false; // not a reference any registry reads: resolving it reports the not-found error
  }
}

/**
 * Pull `ref` before it is resolved, when the policy says so: with "missing", only when it resolves to nothing
 * (no path, no project gpux.yml of that name, no store entry); with "always", every time (the registry is
 * asked for the revision's commit; an entry already holding it is reused). Paths are never pulled. Returns
 * the pull's result, or undefined when nothing was pulled. The model is then resolved as usual.
 */
export async function pullIfMissing(
  ref: string | undefined,
  options: PullIfMissingOptions = {},
): Promise<PullModelResult | undefined> {
  const policy = options.policy ?? "missing";
  const cwd = options.cwd ?? process.cwd();
  if (ref === undefined || policy === "never" || !isRegistryRef(ref, cwd)) return undefined;
  let missing: NotFoundError | undefined;
  if (policy === "missing") {
    // any other error (a broken gpux.yml) is the resolver's to report, not a reason to pull
    missing = await resolveModelRef(ref, { cwd }).then(
      () => undefined,
      (error: unknown) => (error instanceof NotFoundError ? error : undefined),
    );
    if (!missing) return undefined;
  }
  options.progress?.emit({ phase: "pull", message: `pulling ${ref}` });
  // whether the registry answered for the model: past that (a download, a conversion), a failure is the pull's own
  let answered = false;
  const progress: ProgressSink = {
    emit(event) {
      if (event.phase !== "resolve") answered = true;
      options.progress?.emit(event);
    },
  };
  try {
    return await pullModel(ref, { progress });
  } catch (error) {
    if (!missing || answered || !(error instanceof GpuxError)) throw error;
    // not here, and the registry could not say what it is (unknown, unreachable, gated): a typo of a pulled
    // name is as likely as a missing model, so say both, and offer the near names
    throw new NotFoundError(`${missing.message} Pulling it failed too: ${error.message}`, {
      hint: `${error.hint ?? "Check the name; `gpux ls` lists pulled models."}${await didYouMeanHint(ref)}`,
      cause: error,
    });
  }
}
