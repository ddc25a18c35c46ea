import { readdir, readlink, rm, rmdir, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { HubCache } from "./hub-cache.js";

/** Blob names linked from any snapshot of a cached repo. */
async function linkedBlobs(cache: HubCache, repoId: string): Promise<Set<string>> {
  const blobs = new Set<string>();
  const snapshots = join(cache.repoDir(repoId), "snapshots");
  for (const commit of await readdir(snapshots).catch(() => [] as string[])) {
    for (const file of await cache.snapshotFiles(repoId, commit)) blobs.add(file.blob);
  }
  return blobs;
}

/** Remove `dir` and its parents up to `stop` while they are empty. */
async function pruneEmpty(dir: string, stop: string): Promise<void> {
  for (let current = dir; current.startsWith(stop) && current !== stop; current = dirname(current)) {
    if ((await readdir(current).catch(() => ["x"])).length > 0) return;
    await rmdir(current).catch(() => undefined);
  }
}

/**
 * `rm --purge`: unlink the snapshot files of a commit that no remaining gpux entry lists, delete the blobs no
 * snapshot links to any more (files Python downloaded stay linked by their own snapshot links), and drop refs
 * pointing at a snapshot that is gone. Returns the bytes freed.
 */
export async function purgeCacheFiles(
  cache: HubCache,
  repoId: string,
  commit: string,
  files: readonly string[],
  keep: ReadonlySet<string>,
): Promise<number> {
  const snapshot = cache.snapshotDir(repoId, commit);
  const candidates = new Map<string, string>();
  for (const file of files) {
    if (keep.has(file)) continue;
    const link = join(snapshot, file);
    const target = await readlink(link).catch(() => undefined);
    if (!target) continue;
    candidates.set(basename(target), file);
    await unlink(link);
    await pruneEmpty(dirname(link), snapshot);
  }
  await pruneEmpty(snapshot, join(cache.repoDir(repoId), "snapshots"));
  const stillLinked = await linkedBlobs(cache, repoId);
  let freed = 0;
  for (const blob of candidates.keys()) {
    if (stillLinked.has(blob)) continue;
    freed += (await cache.blobSize(repoId, blob)) ?? 0;
    await rm(cache.blobPath(repoId, blob), { force: true });
  }
  if ((await readdir(snapshot).catch(() => [])).length === 0) {
    const refs = join(cache.repoDir(repoId), "refs");
    for (const ref of await readdir(refs, { recursive: true }).catch(() => [] as string[])) {
      if ((await cache.readRef(repoId, ref)) === commit) await rm(join(refs, ref), { force: true });
    }
  }
  return freed;
}
