/**
 * A fake Hugging Face Hub: a real HTTP server on 127.0.0.1 speaking the parts of the Hub protocol that gpux and
 * Python's huggingface_hub use, so pulls are tested over real sockets with no network.
 *
 *   const hub = await startFakeHub({ repos: [onnxRepo("org/Name")] });
 *   runCli(["pull", "org/Name"], { env: { HF_ENDPOINT: hub.url, HF_HUB_CACHE: …, GPUX_HOME: … } });
 *   hub.stats.bytesByFile.get("org/Name/onnx/model.onnx");   // bytes served for one file
 *   hub.faults.dropAfter = { file: "onnx/model.onnx_data", bytes: 4096 }; // next response of it is cut
 *   await hub.close();
 *
 * Endpoints: GET /api/models/{id}[/revision/{rev}] (id, sha, pipeline_tag, private, gated, cardData, siblings),
 * GET /api/models/{id}/tree/{rev}[/path]?recursive= (type, path, size, oid, lfs {oid, size}),
 * HEAD/GET /{id}/resolve/{rev}/{file} with X-Repo-Commit, ETag (git oid, or sha256 for LFS), X-Linked-Etag,
 * X-Linked-Size, Accept-Ranges and Range → 206; LFS files redirect (302) to /__cdn/… on the same server (or on
 * `cdnOrigin`) as the Hub redirects to its CDN. Repo ids are matched case-insensitively and answered in their canonical spelling.
 * Errors: JSON `{"error"}` with X-Error-Code (RepoNotFound, RevisionNotFound, GatedRepo) and 401/403/404.
 * Repo builders (ONNX with variants and external data, safetensors, from a folder) are in fake-hub-repos.ts,
 * the ids a repo gets in fake-hub-build.ts, the faults a test can set (throttle, drop, stall, corrupt) and
 * how bodies are sent with them in fake-hub-faults.ts.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { type Built, buildRepo } from "./fake-hub-build.js";
import { type Faults, sendWithFaults } from "./fake-hub-faults.js";

export interface FakeRepo {
  /** Canonical id, `org/Name` (or a single segment such as `gpt2`). */
  id: string;
  /** Repo path → content. */
  files: Record<string, Uint8Array | string>;
  pipelineTag?: string;
  /** library_name, downloads and likes in search answers (GET /api/models?search=). */
  library?: string;
  downloads?: number;
  likes?: number;
  cardData?: Record<string, unknown>;
  /** Every request needs the hub's token (401 without). */
  private?: boolean;
  /** Listing works; downloads need a token in `acceptedTokens` (403 GatedRepo otherwise). */
  gated?: boolean;
  acceptedTokens?: string[];
  /** Branch and tag names besides `main` that point at the repo's one commit. */
  revisions?: string[];
  /** Tamper with the tree answer (hostile names, lying sizes). */
  listing?: (entries: TreeEntry[]) => TreeEntry[];
  /** Tamper with the model info answer (hostile ids or commit shas). */
  answer?: (info: Record<string, unknown>) => Record<string, unknown>;
}

export interface TreeEntry {
  type: "file";
  path: string;
  size: number;
  oid: string;
  lfs?: { oid: string; size: number; pointerSize: number };
}

export interface FakeHubStats {
  /** Body bytes written for file downloads, all files. */
  bytesServed: number;
  /** Body bytes per `repoId/path` (canonical id). */
  bytesByFile: Map<string, number>;
  /** GET requests for file content (resolve or CDN), per `repoId/path`. */
  downloads: Map<string, number>;
  /** Every request as `METHOD path`. */
  requests: string[];
  /** The requests (`METHOD path`) that carried an Authorization header. */
  withAuthorization: string[];
}

export interface FakeHub {
  url: string;
  /** The token private and gated repos accept (`hf_fake_token` unless set). */
  token: string;
  stats: FakeHubStats;
  faults: Faults;
  resetStats(): void;
  addRepo(repo: FakeRepo): void;
  /** The commit sha a repo's revisions resolve to. */
  commitOf(id: string): string;
  close(): Promise<void>;
}

export interface FakeHubOptions {
  repos?: FakeRepo[];
  token?: string;
  /** Redirect LFS downloads to a CDN path, as the Hub does. Default true. */
  redirectLfs?: boolean;
  /**
   * Origin (`http://127.0.0.1:port`) the LFS redirects point at, as the Hub's point at its CDN's host: a test
   * server there can record what arrives and forward `/__cdn/…` back here. Default this server.
   */
  cdnOrigin?: string;
  /** Serve HTTPS with this key and certificate (PEM) instead of plain HTTP. */
  tls?: { key: string; cert: string };
}

export async function startFakeHub(options: FakeHubOptions = {}): Promise<FakeHub> {
  const token = options.token ?? "hf_fake_token";
  const repos = new Map<string, Built>();
  const faults: Faults = {};
  const stats: FakeHubStats = {
    bytesServed: 0,
    bytesByFile: new Map(),
    downloads: new Map(),
    requests: [],
    withAuthorization: [],
  };
  const addRepo = (repo: FakeRepo) => repos.set(repo.id.toLowerCase(), buildRepo(repo));
  for (const repo of options.repos ?? []) addRepo(repo);

  const json = (res: ServerResponse, status: number, body: unknown, errorCode?: string) => {
    const headers: Record<string, string> = { "content-type": "application/json; charset=utf-8" };
    if (errorCode) headers["x-error-code"] = errorCode;
    res.writeHead(status, headers).end(JSON.stringify(body));
  };
  const bearer = (req: IncomingMessage) => /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];

  /** Split `org/name/rest…` into a known repo and the rest. */
  const findRepo = (segments: string[]): { built?: Built; rest: string[] } => {
    for (const n of [2, 1]) {
      const built = repos.get(segments.slice(0, n).join("/").toLowerCase());
      if (built && segments.length >= n) return { built, rest: segments.slice(n) };
    }
    return { rest: [] };
  };

  const revisionOk = (built: Built, rev: string) =>
    rev === "main" || rev === "HEAD" || rev === built.commit || (built.repo.revisions ?? []).includes(rev);

  /** Private repos without the token answer 401 like the Hub; undefined when access is fine. */
  const denied = (req: IncomingMessage, built: Built): boolean =>
    built.repo.private === true && bearer(req) !== token;

  const tree = (built: Built): TreeEntry[] => {
    const entries: TreeEntry[] = [...built.files].map(([path, f]) => ({
      type: "file",
      path,
      size: f.lfs ? f.content.length : f.content.length,
      oid: f.oid,
      ...(f.lfs ? { lfs: { oid: f.sha256, size: f.content.length, pointerSize: 134 } } : {}),
    }));
    return built.repo.listing ? built.repo.listing(entries) : entries;
  };

  /** GET /api/models?search=&pipeline_tag=&library=&filter=onnx&sort=downloads&limit=: public repos, most downloaded first. */
  const searchRepos = (req: IncomingMessage) => {
    const params = new URL(req.url ?? "/", "http://x").searchParams;
    const text = (params.get("search") ?? "").toLowerCase();
    const task = params.get("pipeline_tag");
    const library = params.get("library");
    const onnx = params.getAll("filter").includes("onnx");
    return [...repos.values()]
      .map((built) => built.repo)
      .filter((repo) => !repo.private && repo.id.toLowerCase().includes(text))
      .filter((repo) => !task || repo.pipelineTag === task)
      .filter((repo) => !library || repo.library === library)
      .map((repo) => ({ repo, hasOnnx: Object.keys(repo.files).some((f) => f.endsWith(".onnx")) }))
      .filter(({ hasOnnx }) => !onnx || hasOnnx)
      .sort((a, b) => (b.repo.downloads ?? 0) - (a.repo.downloads ?? 0))
      .slice(0, Number(params.get("limit") ?? 1000))
      .map(({ repo, hasOnnx }) => ({
        id: repo.id,
        pipeline_tag: repo.pipelineTag,
        library_name: repo.library,
        tags: hasOnnx ? ["onnx"] : [],
        downloads: repo.downloads ?? 0,
        likes: repo.likes ?? 0,
      }));
  };

  const handleApi = (req: IncomingMessage, res: ServerResponse, segments: string[]) => {
    if (faults.htmlApi) {
      res.writeHead(200, { "content-type": "text/html" }).end("<html><body>Please log in</body></html>");
      return;
    }
    if (segments.length === 0 || segments[0] === "") return json(res, 200, searchRepos(req));
    const { built, rest } = findRepo(segments);
    if (!built) return json(res, 404, { error: "Repository not found" }, "RepoNotFound");
    if (denied(req, built)) return json(res, 401, { error: "Invalid username or password." }, "RepoNotFound");
    const [kind, rawRev, ...path] = rest;
    const rev = decodeURIComponent(rawRev ?? "main");
    if (!revisionOk(built, rev))
      return json(res, 404, { error: `Invalid rev id: ${rev}` }, "RevisionNotFound");
    if (kind === "tree") {
      const prefix = path.filter(Boolean).join("/");
      return json(
        res,
        200,
        tree(built).filter((e) => !prefix || e.path.startsWith(`${prefix}/`)),
      );
    }
    if (kind !== undefined && kind !== "revision") return json(res, 404, { error: "Not found" });
    const { repo } = built;
    const info = {
      _id: createHash("sha1").update(repo.id).digest("hex").slice(0, 24),
      id: repo.id,
      modelId: repo.id,
      author: repo.id.includes("/") ? repo.id.split("/")[0] : undefined,
      sha: built.commit,
      lastModified: "2025-01-01T00:00:00.000Z",
      private: repo.private ?? false,
      gated: repo.gated ? "auto" : false,
      disabled: false,
      downloads: 0,
      likes: 0,
      pipeline_tag: repo.pipelineTag,
      tags: [],
      cardData: repo.cardData,
      siblings: tree(built).map((e) => ({ rfilename: e.path })),
    };
    json(res, 200, repo.answer ? repo.answer(info) : info);
  };

  const sendBody = (res: ServerResponse, key: string, file: string, body: Buffer, start: number) => {
    stats.downloads.set(key, (stats.downloads.get(key) ?? 0) + 1);
    return sendWithFaults(res, faults, { file, body, start }, (n) => {
      stats.bytesServed += n;
      stats.bytesByFile.set(key, (stats.bytesByFile.get(key) ?? 0) + n);
    });
  };

  const serveContent = async (
    req: IncomingMessage,
    res: ServerResponse,
    built: Built,
    file: string,
    headers: Record<string, string>,
  ) => {
    const entry = built.files.get(file);
    if (!entry) return json(res, 404, { error: "Entry not found" }, "EntryNotFound");
    const size = entry.content.length;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
    let start = 0;
    let end = size - 1;
    let status = 200;
    if (range) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (start >= size) {
        res.writeHead(416, { "content-range": `bytes */${size}` }).end();
        return;
      }
      status = 206;
      headers["content-range"] = `bytes ${start}-${end}/${size}`;
    }
    res.writeHead(status, {
      ...headers,
      "content-type": "application/octet-stream",
      "content-length": String(end - start + 1),
      "accept-ranges": "bytes",
    });
    if (req.method === "HEAD") return res.end();
    await sendBody(res, `${built.repo.id}/${file}`, file, entry.content.subarray(start, end + 1), start);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://x");
    stats.requests.push(`${req.method} ${url.pathname}`);
    if (req.headers.authorization) stats.withAuthorization.push(`${req.method} ${url.pathname}`);
    const fail = faults.fail;
    if (fail && fail.times > 0 && (!fail.pathIncludes || url.pathname.includes(fail.pathIncludes))) {
      fail.times--;
      if (fail.retryAfter !== undefined) res.setHeader("retry-after", fail.retryAfter);
      if (fail.html)
        res.writeHead(fail.status, { "content-type": "text/html" }).end("<html><h1>Bad gateway</h1></html>");
      else json(res, fail.status, { error: fail.status === 429 ? "Too Many Requests" : "Internal Error" });
      return;
    }
    const segments = url.pathname.split("/").slice(1);
    if (segments[0] === "api" && segments[1] === "models") return handleApi(req, res, segments.slice(2));
    if (segments[0] === "__cdn") {
      const built = repos.get(decodeURIComponent(segments[1] ?? "").toLowerCase());
      const file = segments.slice(2).map(decodeURIComponent).join("/");
      const entry = built?.files.get(file);
      if (!built || !entry) return json(res, 404, { error: "Not found" });
      // huggingface_hub follows same-host redirects on HEAD, so the "CDN" repeats the Hub's headers.
      const headers = {
        "x-repo-commit": built.commit,
        etag: `"${entry.sha256}"`,
        "x-linked-etag": `"${entry.sha256}"`,
      };
      return serveContent(req, res, built, file, headers);
    }
    const at = segments.indexOf("resolve");
    const { built } = at > 0 ? findRepo(segments.slice(0, at)) : { built: undefined };
    if (!built) return json(res, 404, { error: "Repository not found" }, "RepoNotFound");
    if (denied(req, built)) return json(res, 401, { error: "Invalid username or password." }, "RepoNotFound");
    const rev = decodeURIComponent(segments[at + 1] ?? "");
    if (!revisionOk(built, rev))
      return json(res, 404, { error: `Invalid rev id: ${rev}` }, "RevisionNotFound");
    if (built.repo.gated && !(built.repo.acceptedTokens ?? []).includes(bearer(req) ?? "")) {
      return json(res, 403, { error: `Access to model ${built.repo.id} is restricted.` }, "GatedRepo");
    }
    const file = segments
      .slice(at + 2)
      .map(decodeURIComponent)
      .join("/");
    const entry = built.files.get(file);
    if (!entry) return json(res, 404, { error: "Entry not found" }, "EntryNotFound");
    const headers: Record<string, string> = {
      "x-repo-commit": built.commit,
      etag: `"${entry.lfs ? entry.sha256 : entry.oid}"`,
    };
    if (entry.lfs) {
      headers["x-linked-etag"] = `"${entry.sha256}"`;
      headers["x-linked-size"] = String(entry.content.length);
      if (options.redirectLfs !== false) {
        const { port } = server.address() as AddressInfo;
        const origin = options.cdnOrigin ?? `${scheme}://127.0.0.1:${port}`;
        const location = `${origin}/__cdn/${encodeURIComponent(built.repo.id)}/${file.split("/").map(encodeURIComponent).join("/")}`;
        res.writeHead(302, { ...headers, location, "content-length": "0" }).end();
        return;
      }
    }
    return serveContent(req, res, built, file, headers);
  };
  const scheme = options.tls ? "https" : "http";
  const server = options.tls ? createHttpsServer(options.tls, handle) : createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${scheme}://127.0.0.1:${port}`,
    token,
    stats,
    faults,
    resetStats() {
      stats.bytesServed = 0;
      stats.bytesByFile.clear();
      stats.downloads.clear();
      stats.requests.length = 0;
      stats.withAuthorization.length = 0;
    },
    addRepo,
    commitOf(id) {
      const built = repos.get(id.toLowerCase());
      if (!built) throw new Error(`no repo ${id}`);
      return built.commit;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
