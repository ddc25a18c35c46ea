import { readdir, realpath, stat } from "node:fs/promises";
import { join } from "node:path";
import { gpuxHome } from "../store/gpux-home.js";
import { type PulledEntry, pulledStore } from "./pulled-entry.js";

/** The bytes one store entry uses: its own files and the cache files it links to. */
export interface EntryUsage {
  entry: PulledEntry;
  /** Every file the entry reaches (links followed), each counted once. */
  bytes: number;
  /** Of those, the bytes other entries reach too (one blob linked from two revisions or variants). */
  sharedBytes: number;
}

export interface DiskUsage {
  entries: EntryUsage[];
  /** What all entries use together, each file counted once however many entries link to it. */
  totalBytes: number;
}

/**
 * The files under an entry's folder as real path → size, links followed (into the Hugging Face cache, OCI
 * blobs), so two links to one blob are one file. A link whose target is gone counts nothing (`gpux ls` shows
 * such an entry as broken).
 */
export async function entryFiles(dir: string): Promise<Map<string, number>> {
  const files = new Map<string, number>();
  const names = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  for (const name of names) {
    const path = join(dir, name);
    const info = await stat(path).catch(() => undefined);
    if (info?.isFile()) files.set(await realpath(path), info.size);
  }
  return files;
}

/** `gpux df`: the disk each entry uses, and all of them together with shared blobs counted once. */
export async function diskUsage(home = gpuxHome()): Promise<DiskUsage> {
  const list = await pulledStore(home).list();
  const perEntry = await Promise.all(list.map((entry) => entryFiles(entry.dir)));
  const reach = new Map<string, { size: number; entries: number }>();
  for (const files of perEntry) {
    for (const [path, size] of files) {
      reach.set(path, { size, entries: (reach.get(path)?.entries ?? 0) + 1 });
    }
  }
  const sum = (values: Iterable<number>) => [...values].reduce((total, n) => total + n, 0);
  const entries = list.map((entry, i) => {
    const files = perEntry[i] as Map<string, number>;
    const shared = [...files].filter(([path]) => (reach.get(path)?.entries ?? 0) > 1).map(([, size]) => size);
    return { entry, bytes: sum(files.values()), sharedBytes: sum(shared) };
  });
  return { entries, totalBytes: sum([...reach.values()].map((r) => r.size)) };
}
