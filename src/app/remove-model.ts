import { HubCache } from "../registry/huggingface/hub-cache.js";
import { hubCacheDir } from "../registry/huggingface/hub-settings.js";
import { purgeCacheFiles } from "../registry/huggingface/purge-cache-files.js";
import { gpuxHome } from "../store/gpux-home.js";
import { ModelStore, type StoreEntry } from "../store/model-store.js";
import { NotFoundError } from "../util/errors.js";
import { findStoreEntries } from "./find-in-store.js";

export interface RemoveModelOptions {
  /** Remove every stored revision of the repo, not just the one the ref names. Default false. */
  allRevisions?: boolean;
  /** Also delete the Hugging Face cache files nobody else links to. Default false. */
  purge?: boolean;
  /** Default $GPUX_HOME. */
  home?: string;
  /** Default the Hugging Face cache from the environment. */
  cacheDir?: string;
}

export interface RemoveModelResult {
  removed: StoreEntry[];
  /** Entries of the same repo left in place. */
  kept: StoreEntry[];
  freedBytes: number;
}

/** `gpux rm`: drop store entries (and with purge, the cache files only they used). */
export async function removeModel(ref: string, options: RemoveModelOptions = {}): Promise<RemoveModelResult> {
  const store = new ModelStore(options.home ?? gpuxHome());
  const found = await findStoreEntries(ref, store);
  if (found.length === 0) {
    throw new NotFoundError(`'${ref}' is not in the gpux store (${store.root}).`, {
      hint: "`gpux ls` lists what is there.",
    });
  }
  const removed = options.allRevisions ? found : found.slice(0, 1);
  const kept = found.filter((entry) => !removed.includes(entry));
  for (const entry of removed) await store.remove(entry);
  let freedBytes = 0;
  if (options.purge) {
    const cache = new HubCache(options.cacheDir ?? hubCacheDir());
    const remaining = await store.list();
    for (const entry of removed) {
      const { repoId, commit, registry } = entry.manifest;
      if (registry !== "huggingface") continue;
      const keep = new Set(
        remaining
          .filter((e) => e.manifest.repoId === repoId && e.manifest.commit === commit)
          .flatMap((e) => e.manifest.files.map((f) => f.path)),
      );
      const files = entry.manifest.files.map((f) => f.path);
      freedBytes += await purgeCacheFiles(cache, repoId, commit, files, keep);
    }
  }
  return { removed, kept, freedBytes };
}
