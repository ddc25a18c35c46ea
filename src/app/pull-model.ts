import { mkdir, readdir, rm, symlink } from "node:fs/promises";
import { dirname, isAbsolute, join, relative } from "node:path";
import type { ConversionReport, ConvertOptions } from "../convert/converter.js";
import { prepareConverterFor, selectConverter, stopUnusedConverters } from "../convert/select-converter.js";
import { parseModelRef, type RegistryOptions } from "../registry/registries.js";
import type { PulledFile, PullOptions, Registry, RemoteModel } from "../registry/registry.js";
import { canonicalOptions, entryKey } from "../store/entry-key.js";
import { gpuxHome } from "../store/gpux-home.js";
import { acquireLock, waitForPrune } from "../store/pull-lock.js";
import { RuntimeFailure, UserError } from "../util/errors.js";
import { writeFileAtomic } from "../util/fs-atomic.js";
import { onExit } from "../util/process-exit.js";
import { silentProgress } from "../util/progress.js";
import { type PulledEntry, type PulledManifest, pulledStore } from "./pulled-entry.js";

export interface PullModelOptions extends PullOptions, RegistryOptions {
  /** `--registry`; default from the reference's prefix, else huggingface. */
  registry?: string;
  /** `--revision`; default the one in the reference, else main. */
  revision?: string;
  /** Options for a converter (task, opset …); part of the store key with `variant`. */
  convert?: Omit<ConvertOptions, "progress" | "variant">;
  /** gpux's home; default $GPUX_HOME or ~/.gpux. */
  home?: string;
}

export interface PullModelResult {
  remote: RemoteModel;
  /** The store entry; absent for a dry run. */
  entry?: PulledEntry;
  /** True when the store already had this revision and nothing was fetched or converted. */
  cached: boolean;
  /** Files chosen (with sizes); for a dry run, what would be fetched. */
  files: Array<Pick<PulledFile, "path" | "size"> & { cached?: boolean }>;
  downloadedBytes: number;
  /** For a dry run: what the chosen files are (onnx, safetensors, pytorch, tensorflow …): not onnx converts. */
  format?: string;
}

/** Link each pulled file into the entry under its repo path, so gpux.yml's relative paths work. */
async function linkFiles(snapshotDir: string, entryDir: string, files: readonly string[]): Promise<void> {
  for (const file of files) {
    const link = join(entryDir, file);
    await mkdir(dirname(link), { recursive: true });
    await symlink(join(snapshotDir, file), link).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== "EEXIST") throw error;
    });
  }
}

/**
 * `gpux pull`: resolve the revision (one request), return the store entry when it already holds that commit
 * with these options, else download and verify the files, convert when the repo has no ONNX, write gpux.yml and
 * the manifest, and move the entry into place. Holds a lock per model while it writes.
 */
export async function pullModel(typed: string, options: PullModelOptions = {}): Promise<PullModelResult> {
  const progress = options.progress ?? silentProgress;
  const home = options.home ?? gpuxHome();
  const { registry, ref } = parseModelRef(typed, { ...options, home });
  if ((options.name !== undefined || options.sha256 !== undefined) && !registry.takesNameAndDigest) {
    throw new UserError(
      `--name and --sha256 are for URLs and local files; '${typed}' is a ${registry.name} model.`,
      {
        hint: "Drop them: a registry's model is stored under its own name and verified by its own digests.",
      },
    );
  }
  if (options.revision) {
    if (ref.revision && ref.revision !== options.revision) {
      throw new UserError(
        `'${typed}' names revision '${ref.revision}' but --revision says '${options.revision}'.`,
        {
          hint: "Drop one of the two.",
        },
      );
    }
    ref.revision = options.revision;
  }
  const resolving = registry.describe?.(ref) ?? `${ref.repoId}@${ref.revision ?? "main"}`;
  progress.emit({ phase: "resolve", message: `resolving ${resolving}` });
  const remote = await registry.info(ref);
  const entryOptions = { variant: options.variant, ...options.convert };
  const key = entryKey(entryOptions);
  const store = pulledStore(home);
  const reuse = async () => {
    const entry = await store.read(registry.name, remote.repoId, remote.commit, key);
    if (!entry || !(await store.isIntact(entry))) return undefined;
    if (!entry.manifest.revisions.includes(remote.revision)) {
      entry.manifest.revisions.push(remote.revision);
      await store.updateManifest(entry);
    }
    await registry.remember(remote);
    return { remote, entry, cached: true, files: entry.manifest.files, downloadedBytes: 0 };
  };
  if (!options.force && !options.dryRun) {
    const cached = await reuse();
    if (cached) return cached;
  }
  if (options.dryRun) {
    const pulled = await registry.pull(remote, { ...options, dryRun: true });
    return { remote, cached: false, files: pulled.files, format: pulled.format, downloadedBytes: 0 };
  }

  const locks = join(store.root, "..", "locks");
  const lockName = `${registry.name}--${remote.repoId.toLowerCase().split("/").join("--")}.lock`;
  const release = await acquireLock(join(locks, lockName));
  try {
    await waitForPrune(locks);
    if (!options.force) {
      const cached = await reuse();
      if (cached) return cached;
    }
    await sweepStaleTemps(store.repoDir(registry.name, remote.repoId));
    // gpux.yml's writer (with zod and yaml, ~0.2 s of module loading) is needed only once the files are
    // here: it loads while they download, in the gaps between socket reads.
    loadConfigWriter();
    const pulled = await registry.pull(remote, { ...options, onSelected: prepareConverterFor });
    const snapshot = pulled.snapshot;
    if (!snapshot) throw new RuntimeFailure(`Pulling '${typed}' produced no files.`);
    const temp = await store.tempDir(registry.name, remote.repoId);
    const removeTemp = () => rm(temp, { recursive: true, force: true });
    const unregisterTemp = onExit(removeTemp);
    try {
      const converter = selectConverter(snapshot);
      progress.emit({ phase: "convert", message: `${converter.name}` });
      const converted = await converter.convert(snapshot, temp, {
        ...options.convert,
        variant: options.variant,
        progress,
      });
      await linkFiles(snapshot.dir, temp, snapshot.files);
      const model = converted.onnxPath.startsWith(snapshot.dir)
        ? relative(snapshot.dir, converted.onnxPath)
        : relative(temp, converted.onnxPath);
      if (isAbsolute(model) || model.startsWith("..")) {
        throw new RuntimeFailure(`Converter ${converter.name} wrote its model outside the store entry.`);
      }
      const manifest = await writeEntryFiles(registry, typed, remote, pulled.files, {
        temp,
        model: model.split("\\").join("/"),
        key,
        options: canonicalOptions(entryOptions),
        conversion: converted.report,
        format: pulled.format,
      });
      const entry = await store.commit(temp, manifest);
      progress.emit({ phase: "done", message: entry.dir });
      return { remote, entry, cached: false, files: pulled.files, downloadedBytes: pulled.downloadedBytes };
    } catch (error) {
      await removeTemp();
      throw error;
    } finally {
      unregisterTemp();
    }
  } finally {
    stopUnusedConverters();
    await release();
  }
}

/**
 * Remove the build folders (`.tmp-*`) of pulls that were killed before they could clean up. Called with the
 * model's lock held: no live pull of this model owns any of them.
 */
async function sweepStaleTemps(repoDir: string): Promise<void> {
  const names = await readdir(repoDir).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.startsWith(".tmp-"))) {
    await rm(join(repoDir, name), { recursive: true, force: true });
  }
}

let configWriter: Promise<typeof import("../config/generate-config.js")> | undefined;
function loadConfigWriter(): Promise<typeof import("../config/generate-config.js")> {
  configWriter ??= import("../config/generate-config.js");
  // a failure surfaces where the writer is awaited, not as an unhandled rejection while downloading
  configWriter.catch(() => undefined);
  return configWriter;
}

async function writeEntryFiles(
  registry: Registry,
  typed: string,
  remote: RemoteModel,
  files: readonly PulledFile[],
  entry: {
    temp: string;
    model: string;
    key: string;
    options: Record<string, string | number | boolean>;
    conversion: ConversionReport;
    format: string;
  },
): Promise<PulledManifest> {
  const name = remote.ref.repoId;
  // --task decides the head the converter exported, so it decides gpux.yml's task too
  const chosen = entry.conversion.taskSource === "--task" ? entry.conversion.task : undefined;
  const { generateConfig } = await loadConfigWriter();
  const { config, yaml } = await generateConfig({
    name,
    dir: entry.temp,
    model: entry.model,
    files: files.map((f) => f.path),
    pipelineTag: chosen ?? remote.pipelineTag,
    metadata: {
      registry: registry.name,
      repo: remote.repoId,
      revision: remote.revision,
      commit: remote.commit,
    },
  });
  await writeFileAtomic(join(entry.temp, "gpux.yml"), yaml);
  return {
    schemaVersion: 1,
    registry: registry.name,
    ref: typed,
    repoId: remote.repoId,
    revisions: [remote.revision],
    commit: remote.commit,
    key: entry.key,
    options: entry.options,
    name,
    format: entry.format,
    task: config.task,
    model: entry.model,
    files: files.map((f) => ({ path: f.path, size: f.size, sha256: f.sha256 })),
    sizeBytes: files.reduce((sum, f) => sum + f.size, 0),
    pulledAt: new Date().toISOString(),
    source: registry.source,
    conversion: entry.conversion,
  };
}
