import { readFile } from "node:fs/promises";
import { join } from "node:path";

/** One file of a pulled model, as verified. */
export interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
}

/**
 * What the store needs of the conversion record: the files it wrote (checked by `isIntact`). The full record
 * is the converter's report (convert/converter.ts), which the use cases fill in as `Conversion`; the store
 * keeps it as written, without knowing converters.
 */
export interface StoredConversion {
  converter: string;
  /** Files the conversion wrote, relative to the entry folder. */
  files?: string[];
}

/** `manifest.json` of a store entry: written last, so an entry without one is not an entry. */
export interface Manifest<Conversion extends StoredConversion = StoredConversion> {
  schemaVersion: 1;
  registry: string;
  /** What the user typed first (`hf:org/Name@v1`). */
  ref: string;
  /** The registry's canonical id. */
  repoId: string;
  /** Revisions (branches, tags) seen resolving to this commit, first one first. */
  revisions: string[];
  commit: string;
  /** Entry key (entry-key.ts); "" for default options. */
  key: string;
  /** Conversion options that made this entry (defaults omitted). */
  options: Record<string, string | number | boolean>;
  /** gpux.yml `name`. */
  name: string;
  /** What the repo shipped: onnx, safetensors, pytorch, tensorflow. */
  format: string;
  task?: string;
  /** The ONNX model, relative to the entry folder. */
  model: string;
  files: ManifestFile[];
  sizeBytes: number;
  pulledAt: string;
  /** Where it came from (the registry's endpoint). */
  source: string;
  conversion: Conversion;
}

export const manifestName = "manifest.json";

/** The manifest of an entry folder, or undefined when absent or not a gpux manifest. */
export async function readManifest<Conversion extends StoredConversion = StoredConversion>(
  entryDir: string,
): Promise<Manifest<Conversion> | undefined> {
  try {
    const data = JSON.parse(await readFile(join(entryDir, manifestName), "utf8")) as Manifest<Conversion>;
    return data.schemaVersion === 1 && typeof data.commit === "string" && Array.isArray(data.files)
      ? data
      : undefined;
  } catch {
    return undefined;
  }
}
