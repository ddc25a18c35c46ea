import { readdir, stat } from "node:fs/promises";
import { basename, join, relative, resolve, sep } from "node:path";
import { type PushFile, type PushResult, pushArtifact } from "../registry/oci/push-artifact.js";
import { gpuxHome } from "../store/gpux-home.js";
import { NotFoundError } from "../util/errors.js";
import type { ProgressSink } from "../util/progress.js";
import { didYouMeanHint, findStoreEntries } from "./find-in-store.js";
import { pulledStore } from "./pulled-entry.js";

export interface PushModelOptions {
  /** `--modelcar`: one tar layer with the files under /models (what KServe mounts). */
  modelcar?: boolean;
  plainHttp?: boolean;
  home?: string;
  env?: NodeJS.ProcessEnv;
  progress?: ProgressSink;
}

interface PushSource {
  name: string;
  task?: string;
  format: string;
  files: PushFile[];
  /** `host/repo` when the model was pulled from an OCI registry (for cross-repository mounts). */
  origin?: string;
}

async function sizeOf(path: string): Promise<number | undefined> {
  return (await stat(path).catch(() => undefined))?.size;
}

/** A pulled model: the files its manifest lists, what a conversion wrote, and its gpux.yml. */
async function fromStore(model: string, home: string): Promise<PushSource | undefined> {
  const store = pulledStore(home);
  const [entry] = await findStoreEntries(model, store);
  if (!entry) return undefined;
  const m = entry.manifest;
  const files = new Map<string, PushFile>();
  for (const f of m.files)
    files.set(f.path, { path: f.path, file: join(entry.dir, f.path), size: f.size, sha256: f.sha256 });
  for (const path of [m.model, ...(m.conversion?.files ?? []), "gpux.yml"]) {
    if (files.has(path)) continue;
    const size = await sizeOf(join(entry.dir, path));
    if (size !== undefined) files.set(path, { path, file: join(entry.dir, path), size });
  }
  return {
    name: m.name,
    task: m.task,
    format: "onnx",
    files: [...files.values()],
    origin: m.registry === "oci" ? m.name : undefined,
  };
}

/** A local model folder (with gpux.yml, or a Hub-layout folder): every file in it but hidden ones. */
async function fromFolder(model: string): Promise<PushSource | undefined> {
  const dir = resolve(model);
  if (!(await stat(dir).catch(() => undefined))?.isDirectory()) return undefined;
  const files: PushFile[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const full = join(entry.parentPath, entry.name);
    const path = relative(dir, full).split(sep).join("/");
    if (path.split("/").some((part) => part.startsWith("."))) continue;
    const info = await stat(full).catch(() => undefined);
    if (info?.isFile()) files.push({ path, file: full, size: info.size });
  }
  // the config loader (yaml and zod, ~1 MB of JavaScript) is loaded only for a folder that has a gpux.yml
  const config = files.some((f) => f.path === "gpux.yml")
    ? await import("../config/load-config.js").then(({ loadConfig }) => loadConfig(join(dir, "gpux.yml")))
    : undefined;
  return {
    name: config?.config.name ?? basename(dir),
    task: config?.config.task,
    format: "onnx",
    files,
  };
}

/** `gpux push MODEL REF`: a pulled model or a local folder into an OCI registry. */
export async function pushModel(
  model: string,
  target: string,
  options: PushModelOptions = {},
): Promise<PushResult> {
  const home = options.home ?? gpuxHome();
  const source = (await fromFolder(model)) ?? (await fromStore(model, home));
  if (!source) {
    throw new NotFoundError(`'${model}' is neither a folder nor a model in the gpux store.`, {
      hint: `\`gpux ls\` lists the pulled models.${await didYouMeanHint(model, pulledStore(home))}`,
    });
  }
  return pushArtifact(target, source.files, {
    home,
    name: source.name,
    task: source.task,
    format: source.format,
    source: source.origin,
    modelcar: options.modelcar,
    plainHttp: options.plainHttp,
    env: options.env,
    progress: options.progress,
  });
}
