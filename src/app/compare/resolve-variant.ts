import { statSync } from "node:fs";
import { join, resolve } from "node:path";
import { type LoadedConfig, loadConfig } from "../../config/load-config.js";
import { snapshotFromFolder } from "../../convert/local-snapshot.js";
import { findOnnxFile, listOnnxVariants } from "../../convert/onnx-variants.js";
import { NotFoundError, UserError } from "../../util/errors.js";
import { findStoreEntries } from "../find-in-store.js";
import { resolveModelRef } from "../resolve.js";

/** A model as `gpux compare` names it: what `run` accepts, and optionally one of its ONNX variants. */
export interface ModelSpec {
  ref: string;
  /** fp32, fp16, q8, q4 … (src/convert/onnx-variants.ts); undefined: the model as `run` takes it. */
  variant?: string;
}

const variantOf = (options: Record<string, unknown>) => String(options.variant ?? "fp32");

/** A pulled entry of `ref` made with `--variant`: the store keeps one entry per variant. */
async function storedVariant(ref: string, variant: string): Promise<LoadedConfig | undefined> {
  const entries = await findStoreEntries(ref);
  const entry = entries.find((e) => variantOf(e.manifest.options) === variant);
  if (entry) return loadConfig(join(entry.dir, "gpux.yml"));
  if (entries.length === 0) return undefined;
  const pulled = [...new Set(entries.map((e) => variantOf(e.manifest.options)))].join(", ");
  throw new NotFoundError(`'${ref}' is pulled as variant ${pulled}, not '${variant}'.`, {
    hint: `Run \`gpux pull ${ref} --variant ${variant}\` first.`,
  });
}

/**
 * The model `spec` names. A variant of a folder (a Hub-layout repo or a folder with gpux.yml) keeps the
 * folder's config (task, tokenizer, labels) and swaps the graph for the variant's file (`onnx/model_quantized.onnx`
 * for q8 …); a variant of a pulled model is the store entry pulled with that `--variant`.
 */
export async function resolveVariant(spec: ModelSpec, cwd = process.cwd()): Promise<LoadedConfig> {
  if (spec.variant === undefined) return resolveModelRef(spec.ref, { cwd });
  const path = resolve(cwd, spec.ref);
  const stat = statSync(path, { throwIfNoEntry: false });
  if (stat?.isFile()) {
    throw new UserError(
      `--variant ${spec.variant} needs a folder or a pulled model; '${spec.ref}' is a file.`,
      {
        hint: "Name the variant's .onnx file itself, or the folder that holds the variants.",
      },
    );
  }
  if (!stat) {
    const stored = await storedVariant(spec.ref, spec.variant);
    if (stored) return stored;
    return resolveModelRef(spec.ref, { cwd }); // throws the usual "not found" with its hints
  }
  const loaded = await resolveModelRef(spec.ref, { cwd });
  const { files } = await snapshotFromFolder(loaded.dir);
  const file = findOnnxFile(files, spec.variant);
  if (!file) {
    throw new NotFoundError(`'${spec.ref}' has no ONNX file for variant '${spec.variant}'.`, {
      hint: `Variants in that folder: ${listOnnxVariants(files).join(", ") || "none"}.`,
    });
  }
  const config = { ...loaded.config, model: { ...loaded.config.model, source: file } };
  return { ...loaded, config, modelPath: join(loaded.dir, file) };
}
