import { rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { snapshotFromFolder } from "../../convert/local-snapshot.js";
import { NotFoundError, UserError } from "../../util/errors.js";
import { silentProgress } from "../../util/progress.js";
import type { PulledFile } from "../registry.js";
import { selectFiles } from "../select-files.js";
import { besideModel, externalDataFiles, includedNames } from "./external-data-files.js";
import { copyIntoCache } from "./url-cache.js";
import { digestMismatch, localMissing } from "./url-errors.js";
import type { UrlPlan, UrlPullOptions, UrlPullResult } from "./url-pull.js";

/** What a local source holds: the files to copy (paths relative to `root`) and what they are. */
interface LocalChoice {
  root: string;
  files: string[];
  format: UrlPullResult["format"];
}

/** A single .onnx file: it, the external data its graph names, and the files --include names beside it. */
async function chooseFromFile(path: string, label: string, include?: string[]): Promise<LocalChoice> {
  if (!path.toLowerCase().endsWith(".onnx")) {
    throw new UserError(`${label} is a single file, but not an .onnx model.`, {
      hint: "Pull an .onnx file, or the folder holding a checkpoint (config.json and its weights) to convert it.",
    });
  }
  const model = basename(path);
  const external = await externalDataFiles(path, label);
  return {
    root: dirname(path),
    files: [...new Set([model, ...external, ...includedNames(include)])],
    format: "onnx",
  };
}

/**
 * A folder: the files a Hub repo of the same layout would give (an ONNX model of the asked variant with its
 * external data, else a checkpoint to convert; config, tokenizer, card; --include globs), plus whatever
 * external data the chosen graph names under other file names.
 */
async function chooseFromFolder(path: string, label: string, options: UrlPullOptions): Promise<LocalChoice> {
  const listed = (await snapshotFromFolder(path)).files;
  const selection = selectFiles(listed, options);
  if (selection.format === "none") {
    throw new NotFoundError(`${label} holds no ONNX model and no checkpoint gpux can convert.`, {
      hint: "The folder needs an .onnx file, config.json with model.safetensors, pytorch_model.bin or tf_model.h5, or a Keras .keras / .h5 file.",
    });
  }
  const files = new Set(selection.files);
  if (selection.onnxFile) {
    const external = await externalDataFiles(join(path, ...selection.onnxFile.split("/")), label);
    for (const name of external) files.add(besideModel(selection.onnxFile, name));
  }
  return { root: path, files: [...files].sort(), format: selection.format };
}

/**
 * Copy a local .onnx file or model folder into the plan's cache folder (never moving or changing the source),
 * hashing each file on the way; the model's sha256 is checked against --sha256 when one was given.
 */
export async function importLocalModel(
  plan: UrlPlan,
  path: string,
  options: UrlPullOptions,
): Promise<UrlPullResult> {
  const progress = options.progress ?? silentProgress;
  const kind = await stat(path).catch(() => undefined);
  if (!kind) throw localMissing(plan.label);
  if (kind.isDirectory() && plan.sha256) {
    throw new UserError("--sha256 checks a single file, and this pull is a folder.", {
      hint: "Pull the .onnx file itself with --sha256, or leave --sha256 out.",
    });
  }
  const choice = kind.isDirectory()
    ? await chooseFromFolder(path, plan.label, options)
    : await chooseFromFile(path, plan.label, options.include);
  const sizes = await Promise.all(
    choice.files.map(async (file) => {
      const size = (await stat(join(choice.root, ...file.split("/"))).catch(() => undefined))?.size;
      if (size === undefined) throw localMissing(plan.label, file);
      return size;
    }),
  );
  if (options.dryRun) {
    return {
      files: choice.files.map((file, i) => ({
        path: file,
        size: sizes[i] as number,
        sha256: "",
        cached: false,
      })),
      format: choice.format,
      downloadedBytes: 0,
    };
  }
  options.onSelected?.(choice.format);
  const files: PulledFile[] = [];
  for (const file of choice.files) {
    const dest = join(plan.dir, ...file.split("/"));
    const { sha256, size } = await copyIntoCache(join(choice.root, ...file.split("/")), dest, (bytes) =>
      progress.emit({ phase: "download", file, bytes, total: sizes[files.length] }),
    );
    progress.emit({ phase: "verify", file, message: "copied" });
    files.push({ path: file, size, sha256, cached: false });
  }
  const model = files[0] as PulledFile;
  if (plan.sha256 && model.sha256 !== plan.sha256) {
    await rm(plan.dir, { recursive: true, force: true });
    throw digestMismatch(plan.label, model.sha256, plan.sha256);
  }
  return { files, format: choice.format, downloadedBytes: 0 };
}
