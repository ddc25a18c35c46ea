import type { ModelRef } from "../registry.js";

// Hub rules: letters, digits, `-`, `_`, `.`; no leading/trailing `-`/`.`, no `--` or `..`; at most 96 chars.
const part = /^(?![-.])(?!.*(--|\.\.))[A-Za-z0-9._-]{1,96}(?<![-.])$/;

/** `org/name`, `org/name@rev`, `name`, `name@rev` → ModelRef; undefined when it is not a Hub id. */
export function parseHubRef(text: string, typed: string): ModelRef | undefined {
  const at = text.indexOf("@");
  const id = at === -1 ? text : text.slice(0, at);
  const revision = at === -1 ? undefined : text.slice(at + 1);
  if (revision !== undefined && !isSafeRevision(revision)) return undefined;
  const parts = id.split("/");
  if (parts.length < 1 || parts.length > 2 || !parts.every((p) => part.test(p))) return undefined;
  return { registry: "huggingface", repoId: id, revision, typed };
}

/** Branch, tag or commit names gpux accepts: they become cache paths (refs/<rev>), so no `..` and no absolute. */
export function isSafeRevision(revision: string): boolean {
  return (
    revision.length > 0 &&
    revision.length <= 200 &&
    /^[A-Za-z0-9._\-/]+$/.test(revision) &&
    !revision.startsWith("/") &&
    revision.split("/").every((segment) => segment !== "" && segment !== "." && segment !== "..")
  );
}
