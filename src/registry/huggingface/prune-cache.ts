import { readdir, realpath, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { PrunedFile, PruneRequest } from "../registry.js";
import type { HubCache } from "./hub-cache.js";

/**
 * `gpux prune` in the Hugging Face cache: delete the blobs that no snapshot links to and no store entry
 * uses. The cache is shared with Python (huggingface_hub, transformers), whose snapshots are indistinguishable
 * from gpux's: a blob some snapshot links to may be theirs, so it stays (`gpux rm --purge` drops a model's own).
 * Partial downloads (`*.incomplete`) stay too: the next pull resumes from them.
 */
export async function pruneHubCache(cache: HubCache, request: PruneRequest): Promise<PrunedFile[]> {
  const pruned: PrunedFile[] = [];
  const folders = await readdir(cache.root).catch(() => [] as string[]);
  for (const folder of folders.filter((name) => name.startsWith("models--"))) {
    const repoId = folder.slice("models--".length).split("--").join("/");
    const snapshots = await readdir(join(cache.repoDir(repoId), "snapshots")).catch(() => [] as string[]);
    const linked = new Set<string>();
    for (const commit of snapshots) {
      for (const file of await cache.snapshotFiles(repoId, commit)) linked.add(file.blob);
    }
    const blobs = await readdir(join(cache.repoDir(repoId), "blobs")).catch(() => [] as string[]);
    for (const blob of blobs) {
      if (linked.has(blob) || blob.endsWith(".incomplete") || blob.startsWith(".")) continue;
      const path = cache.blobPath(repoId, blob);
      const info = await stat(path).catch(() => undefined);
      if (!info?.isFile() || request.used.has(await realpath(path))) continue;
      if (!request.dryRun) await rm(path, { force: true });
      pruned.push({ path, bytes: info.size });
    }
  }
  return pruned;
}
