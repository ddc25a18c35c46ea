/**
 * A second registry, built only from gpux's public pieces, to prove that a registry plugs in without touching
 * cli/, store/ or app/: model folders under one root, served over HTTP by a plain static server.
 *
 *   const server = await serveFolders(root);                  // root/<name>/<files>
 *   const unregister = registerRegistry(folderRegistry(server.url, cacheDir));
 *   await pullModel("plain:<name>", { home });                 // the real pull use case
 *
 * Protocol: GET /<name>/ answers the folder's files as JSON [{path, size, sha256}] (an autoindex with
 * digests); GET /<name>/<path> the file. A revision is the first 40 hex of the listing's sha256; the only
 * branch is `main`. Its cache is `<cacheDir>/<name>/<commit>/<path>`.
 */
import { createHash } from "node:crypto";
import { createReadStream, readdirSync, readFileSync, statSync } from "node:fs";
import { readdir, rm, stat } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join, relative, sep } from "node:path";
import { downloadBlob } from "../../src/net/download-blob.js";
import type {
  ModelRef,
  PulledModel,
  PullOptions,
  PurgeRequest,
  Registry,
  RegistryPlugin,
  RemoteModel,
} from "../../src/registry/registry.js";
import { selectFiles } from "../../src/registry/select-files.js";
import { NotFoundError, RuntimeFailure } from "../../src/util/errors.js";

interface ListedFile {
  path: string;
  size: number;
  sha256: string;
}

function listFolder(dir: string): ListedFile[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const full = join(entry.parentPath, entry.name);
      const path = relative(dir, full).split(sep).join("/");
      const sha256 = createHash("sha256").update(readFileSync(full)).digest("hex");
      return { path, size: statSync(full).size, sha256 };
    })
    .sort((a, b) => (a.path < b.path ? -1 : 1));
}

export interface FolderServer {
  url: string;
  /** Every request as `GET path`. */
  requests: string[];
  close(): Promise<void>;
}

/** Serve the model folders under `root` over HTTP on 127.0.0.1. */
export async function serveFolders(root: string): Promise<FolderServer> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    requests.push(`${req.method} ${path}`);
    const [name, ...rest] = path.slice(1).split("/");
    const folder = join(root, name ?? "");
    if (
      !name ||
      name.startsWith(".") ||
      rest.includes("..") ||
      !statSync(folder, { throwIfNoEntry: false })
    ) {
      res.writeHead(404).end();
      return;
    }
    if (rest.length === 0 || rest.join("/") === "") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(listFolder(folder)));
      return;
    }
    const file = join(folder, ...rest);
    const size = statSync(file, { throwIfNoEntry: false })?.size;
    if (size === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-length": size });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const commitOf = (files: ListedFile[]) =>
  createHash("sha256").update(JSON.stringify(files)).digest("hex").slice(0, 40);

/** The registry for a folder server: references `plain:<name>` (or `folder:<name>`), one segment each. */
class FolderRegistry implements Registry {
  readonly name = "plain";

  constructor(
    readonly source: string,
    private readonly cacheDir: string,
  ) {}

  parse(text: string, typed: string): ModelRef | undefined {
    const match = /^([a-z0-9][a-z0-9-]*)(?:@(main))?$/.exec(text);
    return match ? { registry: this.name, repoId: match[1] as string, revision: match[2], typed } : undefined;
  }

  async info(ref: ModelRef): Promise<RemoteModel> {
    const response = await fetch(`${this.source}/${ref.repoId}/`);
    if (response.status === 404) {
      throw new NotFoundError(`No folder '${ref.repoId}' on ${this.source}.`, { hint: "Check the name." });
    }
    const files = (await response.json()) as ListedFile[];
    return { ref, repoId: ref.repoId, revision: ref.revision ?? "main", commit: commitOf(files), files };
  }

  async remember(): Promise<void> {
    // a folder has one revision: nothing to record
  }

  private snapshotDir(remote: { repoId: string; commit: string }): string {
    return join(this.cacheDir, remote.repoId, remote.commit);
  }

  async pull(remote: RemoteModel, options: PullOptions): Promise<PulledModel> {
    const listed = (remote.files ?? []) as ListedFile[];
    const selection = selectFiles(
      listed.map((f) => f.path),
      options,
    );
    const chosen = listed.filter((f) => selection.files.includes(f.path));
    if (options.dryRun) {
      return {
        remote,
        files: chosen.map((f) => ({ ...f, cached: false })),
        format: selection.format,
        downloadedBytes: 0,
      };
    }
    options.onSelected?.(selection.format);
    const dir = this.snapshotDir(remote);
    let downloadedBytes = 0;
    for (const file of chosen) {
      const result = await downloadBlob({
        url: `${this.source}/${remote.repoId}/${file.path}`,
        dest: join(dir, ...file.path.split("/")),
        expected: { size: file.size, sha256: file.sha256 },
        label: `'${file.path}' of '${remote.repoId}'`,
        httpError: (status) =>
          new RuntimeFailure(`The folder server answered HTTP ${status} for ${file.path}.`),
      });
      downloadedBytes += result.fetched;
    }
    return {
      remote,
      files: chosen.map((f) => ({ ...f, cached: false })),
      format: selection.format,
      downloadedBytes,
      snapshot: { dir, files: chosen.map((f) => f.path), repoId: remote.repoId, commit: remote.commit },
    };
  }

  async purge(request: PurgeRequest): Promise<number> {
    const dir = this.snapshotDir(request);
    let freed = 0;
    for (const file of request.files) {
      if (request.keep.has(file)) continue;
      const path = join(dir, ...file.split("/"));
      freed += (await stat(path).catch(() => undefined))?.size ?? 0;
      await rm(path, { force: true });
    }
    if (
      (await readdir(dir, { recursive: true }).catch(() => [])).every((p) =>
        statSync(join(dir, p)).isDirectory(),
      )
    )
      await rm(dir, { recursive: true, force: true });
    return freed;
  }
}

/** The plug-in for `registerRegistry()`: name `plain`, alias `folder`. */
export function folderRegistry(url: string, cacheDir: string): RegistryPlugin {
  return { name: "plain", aliases: ["folder"], create: () => new FolderRegistry(url, cacheDir) };
}
