import { lstat, mkdir, readdir, readFile, readlink, rename, rm, stat, symlink } from "node:fs/promises";
import { basename, dirname, join, relative } from "node:path";
import { writeFileAtomic } from "../../util/fs-atomic.js";
import { isSafeRepoPath } from "../safe-repo-path.js";

/** A file of a snapshot in the cache: repo path → blob name (sha256 for LFS files, git sha1 otherwise). */
export interface CachedFile {
  path: string;
  blob: string;
  size: number;
}

/**
 * The Hugging Face cache, laid out exactly as Python's huggingface_hub does, so both tools share downloads:
 * `models--org--name/blobs/<etag>`, `snapshots/<commit>/<path>` (relative symlinks to the blobs) and
 * `refs/<revision>` (a file holding the commit). Partial downloads are `blobs/<etag>.incomplete`.
 */
export class HubCache {
  constructor(readonly root: string) {}

  repoDir(repoId: string): string {
    return join(this.root, `models--${repoId.split("/").join("--")}`);
  }

  blobPath(repoId: string, blob: string): string {
    return join(this.repoDir(repoId), "blobs", blob);
  }

  snapshotDir(repoId: string, commit: string): string {
    return join(this.repoDir(repoId), "snapshots", commit);
  }

  /** The repo's folder name spelled as the cache has it (the Hub ignores case; the file system may not). */
  async findRepoId(repoId: string): Promise<string | undefined> {
    const wanted = `models--${repoId.split("/").join("--")}`.toLowerCase();
    const names = await readdir(this.root).catch(() => [] as string[]);
    const exact = names.find((name) => name === `models--${repoId.split("/").join("--")}`);
    const found = exact ?? names.find((name) => name.toLowerCase() === wanted);
    return found?.slice("models--".length).split("--").join("/");
  }

  async readRef(repoId: string, revision: string): Promise<string | undefined> {
    const text = await readFile(join(this.repoDir(repoId), "refs", revision), "utf8").catch(() => undefined);
    const commit = text?.trim();
    return commit && /^[0-9a-f]{40}$/.test(commit) ? commit : undefined;
  }

  async writeRef(repoId: string, revision: string, commit: string): Promise<void> {
    if (revision === commit) return;
    const path = join(this.repoDir(repoId), "refs", revision);
    if ((await this.readRef(repoId, revision)) === commit) return;
    await writeFileAtomic(path, commit);
  }

  /** Point snapshots/<commit>/<path> at the blob (relative link, as huggingface_hub makes it). */
  async linkSnapshotFile(repoId: string, commit: string, path: string, blob: string): Promise<void> {
    const pointer = join(this.snapshotDir(repoId, commit), path);
    const target = relative(dirname(pointer), this.blobPath(repoId, blob));
    const existing = await readlink(pointer).catch(() => undefined);
    if (existing === target) return;
    await mkdir(dirname(pointer), { recursive: true });
    const temp = `${pointer}.${process.pid}.tmp`;
    await rm(temp, { force: true });
    await symlink(target, temp);
    await rename(temp, pointer);
  }

  /** Files present in a snapshot (links whose blob exists), for offline use and Python-made snapshots. */
  async snapshotFiles(repoId: string, commit: string): Promise<CachedFile[]> {
    return (await this.snapshotContents(repoId, commit)).files;
  }

  /** The snapshot's files, and those whose link points at a blob that is gone (size unknown: 0). */
  async snapshotContents(
    repoId: string,
    commit: string,
  ): Promise<{ files: CachedFile[]; missing: CachedFile[] }> {
    const root = this.snapshotDir(repoId, commit);
    const out: CachedFile[] = [];
    const missing: CachedFile[] = [];
    const walk = async (dir: string): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        const full = join(dir, entry.name);
        if (entry.isDirectory()) {
          await walk(full);
          continue;
        }
        const path = relative(root, full).split("\\").join("/");
        if (!isSafeRepoPath(path)) continue;
        const link = await readlink(full).catch(() => undefined);
        const info = await stat(full).catch(() => undefined);
        if (!info && link) missing.push({ path, blob: basename(link), size: 0 });
        if (!info?.isFile()) continue;
        out.push({ path, blob: link ? basename(link) : "", size: info.size });
      }
    };
    await walk(root);
    return { files: out.sort((a, b) => (a.path < b.path ? -1 : 1)), missing };
  }

  /** Size of a complete blob, or undefined when absent. */
  async blobSize(repoId: string, blob: string): Promise<number | undefined> {
    const info = await lstat(this.blobPath(repoId, blob)).catch(() => undefined);
    return info?.isFile() ? info.size : undefined;
  }
}
