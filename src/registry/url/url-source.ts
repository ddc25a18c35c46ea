import { basename, extname, isAbsolute, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { UserError } from "../../util/errors.js";
import { isHubRepoId } from "../huggingface/parse-hub-ref.js";

/** Where a URL pull reads from: a file over HTTP(S), or a file or folder on this machine. */
export type UrlSource = { kind: "http"; url: URL } | { kind: "local"; path: string };

const isHttp = (text: string) => /^https?:\/\//i.test(text);
const isFileUrl = (text: string) => /^file:\/\//i.test(text);

/** `./x`, `../x`, `/x`, `.`, `..`, `C:\x`: what no other registry's ids look like. */
const isPathLike = (text: string) =>
  /^\.{1,2}(\/|\\|$)/.test(text) || isAbsolute(text) || /^[A-Za-z]:[\\/]/.test(text);

/**
 * True for what is unmistakably a file to fetch or import: an http(s) URL whose path ends in `.onnx` (other
 * URLs are pages: the Hub reads its own), a `file://` URL, a path (`./…`, `../…`, `/…`) or a name ending in
 * `.onnx`. Anything else reaches this registry only with `url:` or `--registry url`.
 */
export function claimsUrlSource(text: string): boolean {
  if (isHttp(text)) {
    try {
      return new URL(text).pathname.toLowerCase().endsWith(".onnx");
    } catch {
      return false;
    }
  }
  return (
    isFileUrl(text) || isPathLike(text) || (!text.includes("://") && text.toLowerCase().endsWith(".onnx"))
  );
}

/**
 * The source `text` names (paths resolved against `cwd`), or undefined when it is neither a URL nor a path. Any
 * http(s) URL is one (with `url:` or `--registry url`, one not ending in `.onnx` too); a bare name such as
 * `org/name` is not, even with the prefix: it stays a name for store lookups, never a folder by accident.
 */
export function parseUrlSource(text: string, cwd = process.cwd()): UrlSource | undefined {
  if (isHttp(text)) {
    try {
      return { kind: "http", url: new URL(text) };
    } catch {
      return undefined;
    }
  }
  if (isFileUrl(text)) {
    try {
      return { kind: "local", path: fileURLToPath(text) };
    } catch {
      return undefined;
    }
  }
  if (!claimsUrlSource(text)) return undefined;
  return { kind: "local", path: resolve(cwd, text) };
}

/** The file or folder name the source ends with (a URL's last path segment, decoded). */
function lastName(source: UrlSource): string {
  if (source.kind === "local") return basename(source.path);
  const segments = source.url.pathname.split("/").filter(Boolean);
  const last = segments.at(-1) ?? source.url.hostname;
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

/**
 * The store name a source gets when no `--name` is given: its file name without `.onnx` (`mnist-8` for
 * `https://host/models/mnist-8.onnx`), or the folder's name, in the characters a model id may hold.
 */
export function derivedStoreName(source: UrlSource): string {
  const name = lastName(source);
  const stem = extname(name).toLowerCase() === ".onnx" ? name.slice(0, -".onnx".length) : name;
  const cleaned = stem
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/\.{2,}/g, ".")
    .replace(/^[-.]+|[-.]+$/g, "")
    .slice(0, 96);
  return cleaned || "model";
}

/** `--name`, checked: `name` or `org/name` as a Hub id is written, since `gpux run NAME` reads it so. */
export function checkStoreName(name: string): string {
  if (!isHubRepoId(name)) {
    throw new UserError(`--name '${name}' is not a model name gpux can store.`, {
      hint: "Write name or org/name: letters, digits, '-', '_', '.', not starting or ending with '-' or '.'.",
    });
  }
  return name;
}

/** The source for messages and the manifest: the URL (without credentials or query), or the absolute path. */
export function describeSource(source: UrlSource): string {
  if (source.kind === "local") return source.path;
  return `${source.url.origin}${source.url.pathname}`;
}
