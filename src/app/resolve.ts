import { readdirSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { configForOnnx } from "../config/config-for-onnx.js";
import { generateConfig } from "../config/generate-config.js";
import { type LoadedConfig, loadConfig } from "../config/load-config.js";
import { defaultConversionDir, readConversion } from "../convert/conversion-cache.js";
import { snapshotFromFolder } from "../convert/local-snapshot.js";
import { findOnnxFile } from "../convert/onnx-variants.js";
import { NotFoundError, UserError } from "../util/errors.js";
import { didYouMeanHint, findInStore, storeLocationForMessages } from "./find-in-store.js";

export const configFileNames = ["gpux.yml", "gpux.yaml"];

export interface ResolveOptions {
  /** Explicit config file (-c); relative to cwd. */
  configPath?: string;
  cwd?: string;
}

function kindOf(path: string): "file" | "dir" | undefined {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return undefined;
  return stat.isDirectory() ? "dir" : "file";
}

function configIn(dir: string): string | undefined {
  return configFileNames.map((name) => join(dir, name)).find((path) => kindOf(path) === "file");
}

/** A folder with no gpux.yml but exactly one .onnx (or model.onnx): serve it as is, like /mnt/models. */
function onnxIn(dir: string): string | undefined {
  const candidates = [join(dir, "model.onnx"), join(dir, "onnx", "model.onnx")];
  const direct = candidates.find((path) => kindOf(path) === "file");
  if (direct) return direct;
  const onnx = readdirSync(dir).filter((name) => name.endsWith(".onnx"));
  return onnx.length === 1 ? join(dir, onnx[0] as string) : undefined;
}

/** Files that say a folder is a model repo as the Hub serves it (downloaded with git or huggingface_hub). */
const hubRepoMarkers = ["config.json", "tokenizer.json", "preprocessor_config.json"];

/**
 * A folder laid out like a Hub repo (config.json, tokenizer files, onnx/model.onnx) and no gpux.yml: its
 * gpux.yml is generated in memory exactly as `gpux pull` writes it (task, labels, tokenizer), so the folder
 * runs as the pulled model does. A checkpoint folder with no ONNX of its own runs the model `gpux convert`
 * wrote into it (`.gpux/onnx/`), with the task it exported. Nothing is written into the user's folder.
 * Undefined for other folders.
 */
async function configForHubFolder(dir: string, name: string): Promise<LoadedConfig | undefined> {
  if (!hubRepoMarkers.some((file) => kindOf(join(dir, file)) === "file")) return undefined;
  const snapshot = await snapshotFromFolder(dir);
  const own = findOnnxFile(snapshot.files);
  const converted = own ? undefined : await readConversion(defaultConversionDir(dir));
  const model = own ?? (converted && relative(dir, converted.onnxPath).split(sep).join("/"));
  if (!model) return undefined;
  const { config } = await generateConfig({
    name,
    dir,
    model,
    files: snapshot.files,
    pipelineTag: converted?.report.task ?? snapshot.pipelineTag,
  });
  const modelPath = join(dir, model);
  // `path` is the model itself, as for a bare .onnx: there is no gpux.yml file behind this config
  return { config, path: modelPath, dir, modelPath, warnings: [] };
}

/** The config of a folder: its gpux.yml, else a Hub-layout repo's generated one, else its single .onnx. */
export async function configForFolder(dir: string, name: string): Promise<LoadedConfig | undefined> {
  const config = configIn(dir);
  if (config) return loadConfig(config);
  const hub = await configForHubFolder(dir, name);
  if (hub) return hub;
  const onnx = onnxIn(dir);
  return onnx ? configForOnnx(onnx, name) : undefined;
}

/** True for what can only be a path (`./m`, `/abs`, `m.onnx`, `gpux.yml`): never a model name to look up or pull. */
export function looksLikePath(ref: string): boolean {
  return (
    ref.startsWith(".") ||
    ref.startsWith("/") ||
    ref.endsWith(".onnx") ||
    /\.ya?ml$/.test(ref) ||
    ref.includes("\\")
  );
}

/** The gpux.yml of the pulled model `ref` names, if the store has one. */
async function pulledConfig(ref: string): Promise<LoadedConfig | undefined> {
  const stored = await findInStore(ref);
  const config = stored && configIn(stored);
  return config ? loadConfig(config) : undefined;
}

/**
 * Turn what the user typed into a loaded model config. Order: explicit path (.onnx, gpux.yml, folder),
 * the current project's gpux.yml (when the ref is its name, or no ref), then gpux's store.
 */
export async function resolveModelRef(
  ref: string | undefined,
  options: ResolveOptions = {},
): Promise<LoadedConfig> {
  const cwd = options.cwd ?? process.cwd();
  if (options.configPath) return loadConfig(resolve(cwd, options.configPath));
  const looked: string[] = [];

  if (ref !== undefined) {
    const path = resolve(cwd, ref);
    const kind = kindOf(path);
    if (kind === "file") {
      if (path.endsWith(".onnx")) return configForOnnx(path);
      if (/\.ya?ml$/.test(path)) return loadConfig(path);
      throw new UserError(`'${ref}' is neither an .onnx file nor a gpux.yml.`, {
        hint: "Pass a .onnx file, a folder holding gpux.yml, or a model name.",
      });
    }
    if (kind === "dir") {
      const name =
        ref
          .replace(/[/\\]+$/, "")
          .split(/[/\\]/)
          .pop() || "model";
      const loaded = await configForFolder(path, name);
      if (loaded) return loaded;
      // `gpux pull ./ckpt` stores the folder's conversion as `ckpt`, and says `gpux run ckpt`: typed so next to
      // the folder, the name is both, and only the pulled model can run
      const pulled = looksLikePath(ref) ? undefined : await pulledConfig(ref);
      if (pulled) return pulled;
      throw new NotFoundError(`Folder '${ref}' has no gpux.yml and no single .onnx model.`, {
        hint: "Add a gpux.yml (see docs/reference/gpux-yml.md) or point at the .onnx file.",
      });
    }
    looked.push(`path ${path}`);
    if (looksLikePath(ref)) {
      throw new NotFoundError(`Model file '${ref}' does not exist.`, { hint: "Check the path." });
    }
  }

  const projectConfig = configIn(cwd);
  if (projectConfig) {
    const loaded = await loadConfig(projectConfig);
    if (ref === undefined || loaded.config.name === ref) return loaded;
    looked.push(`project ${projectConfig} (name '${loaded.config.name}')`);
  } else if (ref === undefined) {
    throw new NotFoundError("No model given and no gpux.yml in the current folder.", {
      hint: "Pass a model: `gpux run path/to/model.onnx` or `gpux run org/name` after `gpux pull org/name`.",
    });
  }

  const pulled = await pulledConfig(ref as string);
  if (pulled) return pulled;
  looked.push(`store ${storeLocationForMessages()}`);
  throw new NotFoundError(`Model '${ref}' not found (looked in: ${looked.join("; ")}).`, {
    hint: `Run \`gpux pull ${ref}\` to fetch it from the Hub, or pass a path to a .onnx file or a folder.${await didYouMeanHint(ref as string)}`,
  });
}
