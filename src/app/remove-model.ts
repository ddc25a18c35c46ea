import { registryOfEntry } from "../registry/registries.js";
import { gpuxHome } from "../store/gpux-home.js";
import { NotFoundError } from "../util/errors.js";
import { didYouMeanHint, findStoreEntries } from "./find-in-store.js";
import { type PulledEntry, pulledStore } from "./pulled-entry.js";

export interface RemoveModelOptions {
  /** Remove every stored revision of the repo, not just the one the ref names. Default false. */
  allRevisions?: boolean;
  /** Also delete the registry's cached files nobody else links to (the Hugging Face cache). Default false. */
  purge?: boolean;
  /** Default $GPUX_HOME. */
  home?: string;
  /** The registry's cache; default the one from the environment (HF_HUB_CACHE for the Hub). */
  cacheDir?: string;
}

export interface RemoveModelResult {
  removed: PulledEntry[];
  /** Entries of the same repo left in place. */
  kept: PulledEntry[];
  freedBytes: number;
}

/** `gpux rm`: drop store entries (and with purge, ask each entry's registry to drop what only they used). */
export async function removeModel(ref: string, options: RemoveModelOptions = {}): Promise<RemoveModelResult> {
  const home = options.home ?? gpuxHome();
  const store = pulledStore(home);
  const found = await findStoreEntries(ref, store);
  if (found.length === 0) {
    throw new NotFoundError(`'${ref}' is not in the gpux store (${store.root}).`, {
      hint: `\`gpux ls\` lists what is there.${await didYouMeanHint(ref, store)}`,
    });
  }
  const removed = options.allRevisions ? found : found.slice(0, 1);
  const kept = found.filter((entry) => !removed.includes(entry));
  for (const entry of removed) await store.remove(entry);
  let freedBytes = 0;
  if (options.purge) {
    const remaining = await store.list();
    for (const entry of removed) {
      const { repoId, commit, registry: name } = entry.manifest;
      // an entry from a registry no longer registered has no cache gpux knows how to clean
      const registry = registryOfEntry(name, { cacheDir: options.cacheDir, home });
      if (!registry) continue;
      const keep = new Set(
        remaining
          .filter(
            (e) =>
              e.manifest.registry === name && e.manifest.repoId === repoId && e.manifest.commit === commit,
          )
          .flatMap((e) => e.manifest.files.map((f) => f.path)),
      );
      const files = entry.manifest.files.map((f) => f.path);
      freedBytes += await registry.purge({ repoId, commit, files, keep });
    }
  }
  return { removed, kept, freedBytes };
}
