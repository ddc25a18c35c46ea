import { realpath } from "node:fs/promises";
import { join } from "node:path";
import { allRegistries } from "../registry/registries.js";
import type { PrunedFile } from "../registry/registry.js";
import { gpuxHome } from "../store/gpux-home.js";
import { acquireLock, liveLockHolders, pruneLockName } from "../store/pull-lock.js";
import { UserError } from "../util/errors.js";
import { entryFiles } from "./disk-usage.js";
import { type PulledEntry, pulledStore } from "./pulled-entry.js";

export interface PruneOptions {
  /** List what would go, remove nothing. Default false. */
  dryRun?: boolean;
  /** Default $GPUX_HOME. */
  home?: string;
  /** The Hugging Face cache; default the one from the environment. */
  cacheDir?: string;
}

export interface PruneResult {
  /** Store entries whose files are gone (`gpux ls` says "broken"): they could not run. */
  brokenEntries: Array<{ entry: PulledEntry; bytes: number }>;
  /** Cache files no entry uses. */
  cacheFiles: PrunedFile[];
  /** Everything removed (or, for a dry run, that would be), in bytes. */
  freedBytes: number;
}

/**
 * `gpux prune`: remove the store entries that are broken, then ask each registry to delete the cache files no
 * remaining entry reaches. A file any entry uses is never deleted: the set of used files is every entry's
 * files with links followed, taken after the broken entries are gone and before any cache file is touched.
 * Refused while a pull runs (its files are in the caches before its entry exists); a pull that starts while
 * prune runs waits for prune's lock, held from before the entries are listed until the last file is gone.
 */
export async function pruneStore(options: PruneOptions = {}): Promise<PruneResult> {
  const home = options.home ?? gpuxHome();
  const locks = join(home, "locks");
  const release = await acquireLock(join(locks, pruneLockName), { doing: "pruning the store" });
  try {
    const running = await liveLockHolders(locks);
    if (running.length > 0) {
      throw new UserError(
        `A gpux pull is running (pid ${running.join(", ")}); its files are not in an entry yet.`,
        {
          hint: "Run `gpux prune` again once the pull has finished.",
        },
      );
    }
    return await removeBrokenAndUnused(home, options);
  } finally {
    await release();
  }
}

/** The removal itself, run with prune's lock held. */
async function removeBrokenAndUnused(home: string, options: PruneOptions): Promise<PruneResult> {
  const dryRun = options.dryRun ?? false;
  const store = pulledStore(home);
  const all = await store.list();
  const intact = await Promise.all(all.map((entry) => store.isIntact(entry)));
  const brokenEntries: PruneResult["brokenEntries"] = [];
  const kept: PulledEntry[] = [];
  for (const [i, entry] of all.entries()) {
    if (intact[i]) {
      kept.push(entry);
      continue;
    }
    // only what is inside the entry folder is freed: the cache files it still reaches are judged below
    const dir = await realpath(entry.dir);
    const own = [...(await entryFiles(entry.dir))].filter(([path]) => path.startsWith(`${dir}/`));
    brokenEntries.push({ entry, bytes: own.reduce((sum, [, size]) => sum + size, 0) });
    if (!dryRun) await store.remove(entry);
  }
  const used = new Set<string>();
  for (const entry of kept) for (const path of (await entryFiles(entry.dir)).keys()) used.add(path);
  const cacheFiles: PrunedFile[] = [];
  for (const registry of allRegistries({ home, cacheDir: options.cacheDir })) {
    if (registry.prune) cacheFiles.push(...(await registry.prune({ used, dryRun })));
  }
  const freedBytes = [...brokenEntries, ...cacheFiles].reduce((sum, item) => sum + item.bytes, 0);
  return { brokenEntries, cacheFiles, freedBytes };
}
