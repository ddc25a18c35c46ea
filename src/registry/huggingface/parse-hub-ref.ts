import type { ModelRef } from "../registry.js";

// Hub rules: letters, digits, `-`, `_`, `.`; no leading/trailing `-`/`.`, no `--` or `..`; at most 96 chars.
const part = /^(?![-.])(?!.*(--|\.\.))[A-Za-z0-9._-]{1,96}(?<![-.])$/;

/** True for a Hub repo id: `name` or `org/name`, each part by the Hub's rules. */
export function isHubRepoId(id: string): boolean {
  const parts = id.split("/");
  return parts.length >= 1 && parts.length <= 2 && parts.every((p) => part.test(p));
}

/** The Hub's own address: a model page's URL on it (or on the mirror in use) names the model. */
export const hubOrigin = "https://huggingface.co";

/**
 * `https://huggingface.co/org/name`, `…/org/name/tree/rev` or `…/org/name/blob/rev/file` → `org/name[@rev]`,
 * when the URL is on one of `origins`; undefined otherwise.
 */
function idFromUrl(text: string, origins: readonly string[]): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  // a mirror may live under a path (`http://host/hub`): the id starts after it
  const base = origins
    .map((origin) => new URL(origin))
    .find(
      (b) => b.origin === url.origin && `${url.pathname}/`.startsWith(`${b.pathname.replace(/\/+$/, "")}/`),
    );
  if (!base) return undefined;
  const rest = url.pathname.slice(base.pathname.replace(/\/+$/, "").length);
  const segments = rest.split("/").filter(Boolean).map(decodeURIComponent);
  const page = segments.findIndex((s) => s === "tree" || s === "blob" || s === "resolve");
  const id = (page === -1 ? segments : segments.slice(0, page)).join("/");
  const revision = page === -1 ? undefined : segments[page + 1];
  return revision ? `${id}@${revision}` : id;
}

/**
 * `org/name`, `org/name@rev`, `name`, `name@rev` → ModelRef; undefined when it is not a Hub id. Docker's
 * `name:tag` reads as `name@tag` (`:latest`, Docker's default tag, as the default branch), and a model page's
 * URL on one of `origins` as the id it shows.
 */
export function parseHubRef(
  text: string,
  typed: string,
  origins: readonly string[] = [hubOrigin],
): ModelRef | undefined {
  const fromUrl = /^https?:\/\//i.test(text) ? idFromUrl(text, origins) : text;
  if (fromUrl === undefined) return undefined;
  const at = fromUrl.indexOf("@");
  const colon = fromUrl.lastIndexOf(":");
  // a tag has no `/`: `org/name:v1` is a tag, `mlflow:org/name` is not
  const tagAt = at === -1 && colon !== -1 && !fromUrl.slice(colon + 1).includes("/") ? colon : -1;
  const split = at !== -1 ? at : tagAt;
  const id = split === -1 ? fromUrl : fromUrl.slice(0, split);
  let revision = split === -1 ? undefined : fromUrl.slice(split + 1);
  if (split === tagAt && revision === "latest") revision = undefined;
  if (revision !== undefined && !isSafeRevision(revision)) return undefined;
  if (!isHubRepoId(id)) return undefined;
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
