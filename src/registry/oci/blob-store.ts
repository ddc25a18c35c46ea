/**
 * Content-addressed blobs under `$GPUX_HOME/blobs/sha256/<hex>` (one copy per digest, whatever tags and
 * repositories share it) and, per pulled manifest, a snapshot folder `$GPUX_HOME/oci/snapshots/<hex>/` whose
 * files are links to those blobs under their paths in the model. A layer that was unpacked (a modelcar's tar)
 * is linked from the snapshot's `.layers/<hex>`, so that it is kept while the snapshot is used (a pull with
 * other options unpacks it again without a download) and freed with the snapshot's last file.
 */
import { createHash } from "node:crypto";
import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readdir, readlink, realpath, rename, rm, stat, symlink } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import type { PrunedFile, PruneRequest } from "../registry.js";

/** The snapshot's folder of links to unpacked layers (hidden: never a model file). */
const layersFolder = ".layers";

export class BlobStore {
  readonly blobsDir: string;
  readonly snapshotsDir: string;

  constructor(home: string) {
    this.blobsDir = join(home, "blobs", "sha256");
    this.snapshotsDir = join(home, "oci", "snapshots");
  }

  blobPath(hex: string): string {
    return join(this.blobsDir, hex);
  }

  snapshotDir(commit: string): string {
    return join(this.snapshotsDir, commit);
  }

  /** The blob's size, undefined when it is not stored. */
  async size(hex: string): Promise<number | undefined> {
    return (await stat(this.blobPath(hex)).catch(() => undefined))?.size;
  }

  /** Copy `length` bytes at `offset` of `source` into the store; returns the copy's sha256 hex. */
  async addRange(source: string, offset: number, length: number): Promise<string> {
    await mkdir(this.blobsDir, { recursive: true });
    const temp = join(this.blobsDir, `.tmp-${process.pid}-${Math.random().toString(16).slice(2)}`);
    const hash = createHash("sha256");
    const out = createWriteStream(temp);
    try {
      if (length > 0) {
        for await (const chunk of createReadStream(source, { start: offset, end: offset + length - 1 })) {
          hash.update(chunk as Buffer);
          if (!out.write(chunk)) await once(out, "drain");
        }
      }
      out.end();
      await once(out, "close");
      const hex = hash.digest("hex");
      await rename(temp, this.blobPath(hex));
      return hex;
    } catch (error) {
      out.destroy();
      await rm(temp, { force: true });
      throw error;
    }
  }

  /** A gzip layer decompressed beside the store, for reading it as a tar; the caller removes it. */
  async gunzip(hex: string): Promise<string> {
    const out = join(this.blobsDir, `.tar-${process.pid}-${hex}`);
    await pipeline(createReadStream(this.blobPath(hex)), createGunzip(), createWriteStream(out));
    return out;
  }

  /** Link `path` of the snapshot to the blob (replacing what was there). */
  async link(commit: string, path: string, hex: string): Promise<void> {
    const at = join(this.snapshotDir(commit), ...path.split("/"));
    await mkdir(dirname(at), { recursive: true });
    await rm(at, { force: true });
    await symlink(this.blobPath(hex), at);
  }

  /** Keep the unpacked layer `hex` while the snapshot of `commit` is in use (see the class comment). */
  async linkLayer(commit: string, hex: string): Promise<void> {
    await this.link(commit, `${layersFolder}/${hex}`, hex);
  }

  /** Every blob some snapshot links to. */
  private async linkedBlobs(): Promise<Set<string>> {
    const linked = new Set<string>();
    const entries = await readdir(this.snapshotsDir, { recursive: true, withFileTypes: true }).catch(
      () => [],
    );
    for (const entry of entries) {
      if (!entry.isSymbolicLink()) continue;
      const target = await readlink(join(entry.parentPath, entry.name)).catch(() => undefined);
      if (target) linked.add(resolve(entry.parentPath, target));
    }
    return linked;
  }

  /**
   * `gpux prune`: delete the blobs no store entry uses, and the snapshot links to them. The blob store is
   * gpux's own (no other tool reads it), so a blob only an old snapshot links to (a tag removed with `gpux rm`)
   * is garbage. An unpacked layer stays while an entry uses a file of its snapshot (as `rm --purge` keeps it).
   * Hidden names are a running pull's temp files and stay.
   */
  async prune(request: PruneRequest): Promise<PrunedFile[]> {
    const keep = new Set(request.used);
    for (const commit of await readdir(this.snapshotsDir).catch(() => [] as string[])) {
      const links = await this.snapshotLinks(commit);
      const inUse = await Promise.all(
        links.files.map((file) =>
          realpath(file).then(
            (p) => keep.has(p),
            () => false,
          ),
        ),
      );
      if (inUse.includes(true))
        for (const layer of links.layers) keep.add(await realpath(layer).catch(() => layer));
    }
    const pruned: PrunedFile[] = [];
    for (const name of await readdir(this.blobsDir).catch(() => [] as string[])) {
      const path = this.blobPath(name);
      const info = await stat(path).catch(() => undefined);
      if (name.startsWith(".") || !info?.isFile() || keep.has(await realpath(path))) continue;
      if (!request.dryRun) await rm(path, { force: true });
      pruned.push({ path, bytes: info.size });
    }
    if (request.dryRun) return pruned;
    const gone = new Set(pruned.map((file) => file.path));
    const entries = await readdir(this.snapshotsDir, { recursive: true, withFileTypes: true }).catch(
      () => [],
    );
    for (const entry of entries.filter((e) => e.isSymbolicLink())) {
      const at = join(entry.parentPath, entry.name);
      const target = await readlink(at).catch(() => undefined);
      if (target && gone.has(resolve(entry.parentPath, target))) await rm(at, { force: true });
    }
    return pruned;
  }

  /** A snapshot's links: to model files, and (in `.layers`) to unpacked layers. */
  private async snapshotLinks(commit: string): Promise<{ files: string[]; layers: string[] }> {
    const snapshot = this.snapshotDir(commit);
    const entries = await readdir(snapshot, { recursive: true, withFileTypes: true }).catch(() => []);
    const links = entries.filter((e) => e.isSymbolicLink()).map((e) => join(e.parentPath, e.name));
    const layers = join(snapshot, layersFolder);
    return {
      files: links.filter((link) => dirname(link) !== layers),
      layers: links.filter((link) => dirname(link) === layers),
    };
  }

  /**
   * `rm --purge`: drop the snapshot's links to `files` (and its layer links once no file is left), then the
   * blobs no snapshot links to any more.
   */
  async purge(commit: string, files: readonly string[]): Promise<number> {
    const targets: string[] = [];
    const unlink = async (at: string) => {
      const target = await readlink(at).catch(() => undefined);
      if (target) targets.push(resolve(dirname(at), target));
      await rm(at, { force: true });
    };
    const snapshot = this.snapshotDir(commit);
    for (const file of files) await unlink(join(snapshot, ...file.split("/")));
    const left = await readdir(snapshot, { recursive: true, withFileTypes: true }).catch(() => []);
    const layers = join(snapshot, layersFolder);
    if (!left.some((e) => e.isSymbolicLink() && e.parentPath !== layers)) {
      for (const entry of left.filter((e) => e.parentPath === layers)) await unlink(join(layers, entry.name));
    }
    const linked = await this.linkedBlobs();
    let freed = 0;
    for (const target of new Set(targets)) {
      if (linked.has(target)) continue;
      freed += (await stat(target).catch(() => undefined))?.size ?? 0;
      await rm(target, { force: true });
    }
    return freed;
  }
}
