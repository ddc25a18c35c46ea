import { randomBytes } from "node:crypto";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { RuntimeFailure } from "../util/errors.js";
import { writeFileAtomic } from "../util/fs-atomic.js";
import { gpuxHome } from "./gpux-home.js";
import { type Manifest, manifestName, readManifest, type StoredConversion } from "./manifest.js";

/** A store entry: its folder and manifest. */
export interface StoreEntry<Conversion extends StoredConversion = StoredConversion> {
  dir: string;
  manifest: Manifest<Conversion>;
}

/** Folder name for repo ids without an organisation (`gpt2`). */
const noOrg = "_";

/** Folder names are what a registry answered: each must stay one folder inside the store. */
const isFolderName = (segment: string) => /^[^./\\\0][^/\\\0]*$/.test(segment);

/** `[registry, org, name]` folders of a repo; refuses ids that would climb out of the store or nest deeper. */
function repoFolders(registry: string, repoId: string): string[] {
  const parts = repoId.split("/");
  const folders = [registry, ...(parts.length === 1 ? [noOrg, repoId] : parts)];
  if (folders.length !== 3 || !folders.every(isFolderName)) {
    throw new RuntimeFailure(`Repo id ${JSON.stringify(repoId)} cannot name a store folder.`, {
      hint: "The registry answered an id gpux cannot store (at most org/name, no `.` first); nothing was written.",
    });
  }
  return folders;
}

/**
 * gpux's store (see README.md here): `<home>/models/<registry>/<org>/<name>/<commit>[+<key>]/` holding
 * manifest.json, gpux.yml and the model's files (links into the Hugging Face cache, or converter output).
 * Entries are built in a hidden temp folder and renamed into place with the manifest already written, so a
 * reader never sees half an entry.
 */
export class ModelStore<Conversion extends StoredConversion = StoredConversion> {
  readonly root: string;

  constructor(home = gpuxHome()) {
    this.root = join(home, "models");
  }

  repoDir(registry: string, repoId: string): string {
    return join(this.root, ...repoFolders(registry, repoId));
  }

  entryDir(registry: string, repoId: string, commit: string, key: string): string {
    return join(this.repoDir(registry, repoId), key ? `${commit}+${key}` : commit);
  }

  async read(
    registry: string,
    repoId: string,
    commit: string,
    key: string,
  ): Promise<StoreEntry<Conversion> | undefined> {
    const dir = this.entryDir(registry, repoId, commit, key);
    const manifest = await readManifest<Conversion>(dir);
    return manifest ? { dir, manifest } : undefined;
  }

  /** True when every file the manifest lists is still there with its size (links into the cache may break). */
  async isIntact(entry: StoreEntry<Conversion>): Promise<boolean> {
    const listed = entry.manifest.files;
    // what a conversion wrote (its weights, beside the graph) must be there too
    const converted = entry.manifest.conversion?.files ?? [];
    const sizes = await Promise.all(
      [entry.manifest.model, ...listed.map((f) => f.path), ...converted].map(async (path) =>
        stat(join(entry.dir, path)).then(
          (s) => s.size,
          () => -1,
        ),
      ),
    );
    const [model, ...rest] = sizes;
    return (
      (model as number) >= 0 &&
      listed.every((f, i) => rest[i] === f.size) &&
      rest.slice(listed.length).every((size) => size >= 0)
    );
  }

  /** A fresh hidden folder beside the entry's final place, for building it. */
  async tempDir(registry: string, repoId: string): Promise<string> {
    const dir = join(this.repoDir(registry, repoId), `.tmp-${process.pid}-${randomBytes(4).toString("hex")}`);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  /** Write the manifest into a built temp folder and move it into place (replacing an older entry). */
  async commit(temp: string, manifest: Manifest<Conversion>): Promise<StoreEntry<Conversion>> {
    const dir = this.entryDir(manifest.registry, manifest.repoId, manifest.commit, manifest.key);
    await writeFileAtomic(join(temp, manifestName), `${JSON.stringify(manifest, null, 2)}\n`);
    const old = `${dir}.old-${process.pid}`;
    const hadOld = await rename(dir, old).then(
      () => true,
      () => false,
    );
    await rename(temp, dir);
    if (hadOld) await rm(old, { recursive: true, force: true });
    return { dir, manifest };
  }

  async updateManifest(entry: StoreEntry<Conversion>): Promise<void> {
    await writeFileAtomic(join(entry.dir, manifestName), `${JSON.stringify(entry.manifest, null, 2)}\n`);
  }

  /** Every entry, newest pull first. */
  async list(): Promise<StoreEntry<Conversion>[]> {
    const entries: StoreEntry<Conversion>[] = [];
    const names = (dir: string) =>
      readdir(dir, { withFileTypes: true }).then(
        (all) => all.filter((d) => d.isDirectory() && !d.name.startsWith(".")).map((d) => join(dir, d.name)),
        () => [] as string[],
      );
    for (const registry of await names(this.root))
      for (const org of await names(registry))
        for (const name of await names(org))
          for (const dir of await names(name)) {
            const manifest = await readManifest<Conversion>(dir);
            if (manifest) entries.push({ dir, manifest });
          }
    return entries.sort((a, b) => b.manifest.pulledAt.localeCompare(a.manifest.pulledAt));
  }

  /** Remove an entry: renamed out of sight first, so a reader never finds half of it. */
  async remove(entry: StoreEntry<Conversion>): Promise<void> {
    const trash = join(this.root, `.trash-${process.pid}-${randomBytes(4).toString("hex")}`);
    await rename(entry.dir, trash);
    await rm(trash, { recursive: true, force: true });
  }
}
