import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse } from "yaml";
import { parseHubRef } from "../registry/huggingface/parse-hub-ref.js";
import { gpuxHome } from "../store/gpux-home.js";
import { ModelStore, type StoreEntry } from "../store/model-store.js";

const lower = (text: string) => text.toLowerCase();

/** Split `hf:org/name@rev` into a registry (if prefixed), repo id and revision; undefined if it is no ref. */
function splitRef(ref: string): { registry?: string; repoId: string; revision?: string } | undefined {
  const prefix = /^(hf|huggingface):(.*)$/i.exec(ref);
  const parsed = parseHubRef(prefix ? (prefix[2] as string) : ref, ref);
  return parsed
    ? { registry: prefix ? "huggingface" : undefined, repoId: parsed.repoId, revision: parsed.revision }
    : undefined;
}

/** The gpux.yml `name` of an entry (users may edit it after a pull). */
async function configName(entry: StoreEntry): Promise<string | undefined> {
  try {
    const doc = parse(await readFile(join(entry.dir, "gpux.yml"), "utf8")) as { name?: unknown };
    return typeof doc?.name === "string" ? doc.name : undefined;
  } catch {
    return undefined;
  }
}

/** Pick among entries of one repo: the asked revision (branch/tag seen, or commit prefix), else the newest. */
function pickRevision(entries: StoreEntry[], revision: string | undefined): StoreEntry | undefined {
  if (!revision) return entries.find((e) => e.manifest.key === "") ?? entries[0];
  const matching = entries.filter(
    (e) =>
      e.manifest.revisions.includes(revision) ||
      (revision.length >= 7 && e.manifest.commit.startsWith(revision)),
  );
  return matching.find((e) => e.manifest.key === "") ?? matching[0];
}

/**
 * Store entries a reference names, best first: by repo id (case-insensitive, as the Hub treats ids) and
 * revision, else by the `name:` in an entry's gpux.yml (exact, then case-insensitive, then the part after
 * the last `/`, when only one entry has it).
 */
export async function findStoreEntries(
  ref: string,
  store = new ModelStore(gpuxHome()),
): Promise<StoreEntry[]> {
  const all = await store.list();
  const split = splitRef(ref);
  if (split) {
    const sameRepo = all.filter(
      (e) =>
        lower(e.manifest.repoId) === lower(split.repoId) || lower(e.manifest.name) === lower(split.repoId),
    );
    const byRegistry = sameRepo.filter((e) => !split.registry || e.manifest.registry === split.registry);
    const picked = pickRevision(byRegistry, split.revision);
    if (picked) return [picked, ...byRegistry.filter((e) => e !== picked)];
  }
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
