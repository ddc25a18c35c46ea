import { readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { LoadedConfig } from "../config/load-config.js";
import { NotFoundError } from "../util/errors.js";
import { configForFolder, resolveModelRef } from "./resolve.js";

function subfolders(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith("."))
    .map((entry) => entry.name)
    .sort();
}

/** A model folder, or (Triton layout) its highest numeric version subfolder; named after the folder. */
async function repositoryEntry(dir: string, name: string): Promise<LoadedConfig | undefined> {
  const versions = subfolders(dir)
    .filter((sub) => /^\d+$/.test(sub))
    .sort((a, b) => Number(b) - Number(a));
  for (const [candidate, version] of [
    [dir, undefined],
    ...versions.slice(0, 1).map((v) => [join(dir, v), v] as const),
  ] as const) {
    // a folder without gpux.yml gets its config on the fly, named after the repository entry, and a version
    // folder (Triton's layout) gives it that version rather than the default 1.0.0
    const loaded = await configForFolder(candidate, name);
    if (!loaded) continue;
    const generated = loaded.path === loaded.modelPath;
    return version && generated ? { ...loaded, config: { ...loaded.config, version } } : loaded;
  }
  return undefined;
}

/**
 * What `gpux serve` was given, as loaded configs: each ref as `gpux run` resolves it, except that a folder
 * holding neither gpux.yml nor one .onnx is read as a model repository (one model per subfolder).
 */
export async function resolveServeRefs(
  refs: readonly string[],
  cwd = process.cwd(),
): Promise<LoadedConfig[]> {
  const loaded: LoadedConfig[] = [];
  for (const ref of refs) {
    try {
      loaded.push(await resolveModelRef(ref, { cwd }));
      continue;
    } catch (error) {
      const dir = resolve(cwd, ref);
      if (!(error instanceof NotFoundError) || !statSync(dir, { throwIfNoEntry: false })?.isDirectory())
        throw error;
    }
    const dir = resolve(cwd, ref);
    const entries = await Promise.all(subfolders(dir).map((sub) => repositoryEntry(join(dir, sub), sub)));
    const found = entries.filter((entry): entry is LoadedConfig => entry !== undefined);
    if (found.length === 0) {
      throw new NotFoundError(
        `Folder '${ref}' holds no model: no gpux.yml, no single .onnx, no model subfolders.`,
        {
          hint: "Point at a model folder, a .onnx file, or a repository whose subfolders are model folders.",
        },
      );
    }
    loaded.push(...found);
  }
  return loaded;
}
