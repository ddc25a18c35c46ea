import { createHash } from "node:crypto";
import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, rename, rm, rmdir, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { PurgeRequest } from "../registry.js";

/**
 * Files of URL and local pulls under `$GPUX_HOME/url/<org>/<name>/<commit>/`: the downloaded or copied files
 * under their paths beside the model (external data where the graph looks for it). Store entries link to them,
 * as they link into the Hugging Face cache. Keyed by the store name too, so the pull lock of that name covers
 * the folder.
 */
export class UrlCache {
  readonly root: string;

  constructor(home: string) {
    this.root = join(home, "url");
  }

  snapshotDir(repoId: string, commit: string): string {
    return join(this.root, ...repoId.split("/"), commit);
  }

  /** `rm --purge`: delete the removed entry's files no other entry uses, then the folders left empty. */
  async purge(request: PurgeRequest): Promise<number> {
    const dir = this.snapshotDir(request.repoId, request.commit);
    let freed = 0;
    for (const file of request.files) {
      if (request.keep.has(file)) continue;
      const path = join(dir, ...file.split("/"));
      freed += (await stat(path).catch(() => undefined))?.size ?? 0;
      await rm(path, { force: true });
    }
    await removeEmptyFolders(dir, this.root);
    return freed;
  }
}

/** Remove `dir` (and its empty subfolders) if nothing is left in it, then its parents up to `stop`. */
async function removeEmptyFolders(dir: string, stop: string): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => undefined);
  if (!entries) return;
  for (const entry of entries.filter((e) => e.isDirectory())) {
    await removeEmptyFolders(join(dir, entry.name), dir);
  }
  for (let at = dir; at !== stop && at.startsWith(stop); at = dirname(at)) {
    // rmdir refuses a folder that still holds something: what another entry uses stays
    if (
      !(await rmdir(at).then(
        () => true,
        () => false,
      ))
    )
      return;
  }
}

/**
 * Copy a local file into the cache: written to `<dest>.incomplete`, hashed on the way, renamed into place.
 * The source is only read.
 */
export async function copyIntoCache(
  source: string,
  dest: string,
  onBytes?: (done: number) => void,
): Promise<{ sha256: string; size: number }> {
  await mkdir(dirname(dest), { recursive: true });
  const partial = `${dest}.incomplete`;
  const hash = createHash("sha256");
  const out = createWriteStream(partial);
  let size = 0;
  try {
    for await (const chunk of createReadStream(source, { highWaterMark: 1 << 20 })) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
      onBytes?.(size);
      if (!out.write(chunk)) await once(out, "drain");
    }
    out.end();
    await once(out, "close");
  } catch (error) {
    out.destroy();
    await rm(partial, { force: true });
    throw error;
  }
  await rename(partial, dest);
  return { sha256: hash.digest("hex"), size };
}
