import { join } from "node:path";
import { readStoreRef } from "../registry/registries.js";
import { gpuxHome } from "../store/gpux-home.js";
import type { ModelStore } from "../store/model-store.js";
import { didYouMean } from "./did-you-mean.js";
import { type PulledEntry, pulledStore } from "./pulled-entry.js";

const lower = (text: string) => text.toLowerCase();

/**
 * The gpux.yml `name` of an entry (users may edit it after a pull); undefined when it does not load. The
 * config loader (yaml and zod, ~1 MB of JavaScript) is loaded only when a lookup by repo id found nothing.
 */
async function configName(entry: { dir: string }): Promise<string | undefined> {
  const { loadConfig } = await import("../config/load-config.js");
  try {
    return (await loadConfig(join(entry.dir, "gpux.yml"))).config.name;
  } catch {
    return undefined;
  }
}

/** Pick among entries of one repo: the asked revision (branch/tag seen, or commit prefix), else the newest. */
function pickRevision(entries: PulledEntry[], revision: string | undefined): PulledEntry | undefined {
  if (!revision) return entries.find((e) => e.manifest.key === "") ?? entries[0];
  const matching = entries.filter(
    (e) =>
      e.manifest.revisions.includes(revision) ||
      (revision.length >= 7 && e.manifest.commit.startsWith(revision)),
  );
  return matching.find((e) => e.manifest.key === "") ?? matching[0];
}

/** Entries whose repo id (or stored name) is what a registry reads in `ref`, the asked revision first. */
function byRepoId(all: PulledEntry[], ref: string): PulledEntry[] {
  for (const { registry, ref: parsed } of readStoreRef(ref)) {
    const sameRepo = all.filter(
      (e) =>
        (registry === undefined || e.manifest.registry === registry) &&
        (lower(e.manifest.repoId) === lower(parsed.repoId) ||
          lower(e.manifest.name) === lower(parsed.repoId)),
    );
    const picked = pickRevision(sameRepo, parsed.revision);
    if (picked) return [picked, ...sameRepo.filter((e) => e !== picked)];
  }
  return [];
}

/**
 * Store entries a reference names, best first: by repo id (case-insensitive, as the Hub treats ids) and
 * revision, else by the `name:` in an entry's gpux.yml (exact, then case-insensitive, then the part after
 * the last `/`, when only one entry has it).
 */
export async function findStoreEntries(ref: string, store = pulledStore(gpuxHome())): Promise<PulledEntry[]> {
  const all = await store.list();
  const found = byRepoId(all, ref);
  if (found.length > 0) return found;
  const names = await Promise.all(all.map(async (entry) => ({ entry, name: await configName(entry) })));
  const exact = names.filter((n) => n.name === ref);
  if (exact.length > 0) return exact.map((n) => n.entry);
  const folded = names.filter((n) => n.name !== undefined && lower(n.name) === lower(ref));
  if (folded.length > 0) return folded.map((n) => n.entry);
  const short = names.filter(
    (n) => n.name !== undefined && lower(n.name.split("/").pop() as string) === lower(ref),
  );
  return new Set(short.map((n) => lower(n.entry.manifest.repoId))).size === 1
    ? short.map((n) => n.entry)
    : [];
}

/** Names in the store close to `ref` (repo ids, gpux.yml names), for "did you mean" hints. */
export async function similarStoreNames(
  ref: string,
  store: ModelStore = pulledStore(gpuxHome()),
): Promise<string[]> {
  const all = await store.list();
  const names = await Promise.all(all.map((entry) => configName(entry)));
  const known = [...all.map((e) => e.manifest.repoId), ...names.filter((n): n is string => n !== undefined)];
  return didYouMean(ref, [...known, ...known.map((n) => n.split("/").pop() as string)]);
}

/** ` Did you mean: a, b?` for a hint, or "" when nothing in the store is close. */
export async function didYouMeanHint(ref: string, store?: ModelStore): Promise<string> {
  const similar = await similarStoreNames(ref, store);
  return similar.length > 0 ? ` Did you mean: ${similar.join(", ")}?` : "";
}

/**
 * Look a reference up in gpux's model store. Returns the folder holding its gpux.yml, or undefined.
 * The store is filled by `gpux pull` (see registry/ and store/).
 */
export async function findInStore(ref: string): Promise<string | undefined> {
  return (await findStoreEntries(ref))[0]?.dir;
}

/** Where the store lookup looked, for "not found" messages. */
export function storeLocationForMessages(): string {
  return join(gpuxHome(), "models");
}
