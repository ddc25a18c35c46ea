import { createHash } from "node:crypto";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { snapshotFromFolder } from "../../convert/local-snapshot.js";
import { RuntimeFailure, UserError } from "../../util/errors.js";
import type {
  ModelRef,
  PulledModel,
  PullOptions,
  PurgeRequest,
  Registry,
  RegistryOptions,
  RegistryPlugin,
  RemoteModel,
} from "../registry.js";
import { fetchUrlModel } from "./fetch-url-model.js";
import { importLocalModel } from "./import-local-model.js";
import { probeUrl } from "./probe-url.js";
import { UrlCache } from "./url-cache.js";
import { localMissing } from "./url-errors.js";
import type { UrlPlan } from "./url-pull.js";
import {
  checkStoreName,
  claimsUrlSource,
  derivedStoreName,
  describeSource,
  parseUrlSource,
  type UrlSource,
} from "./url-source.js";

/** The revision every URL or local pull is recorded under: a file has one version, the one fetched. */
const onlyRevision = "latest";

/** A commit id (40 hex, as the store names entries) for what identifies one version of a source. */
const commitOf = (parts: ReadonlyArray<string | number | undefined>) =>
  createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 40);

/** `--sha256`, checked and lower-cased. */
function checkDigest(digest: string | undefined): string | undefined {
  if (digest === undefined) return undefined;
  const hex = digest.replace(/^sha256:/i, "").toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) {
    throw new UserError(`--sha256 '${digest}' is not a sha256 digest.`, {
      hint: "Pass the 64 hex digits `sha256sum FILE` prints.",
    });
  }
  return hex;
}

/**
 * What identifies the version of a local file or folder without reading it: each file's path, size and
 * modification time (as make judges files). Edited files give a new commit, and so a new copy.
 */
async function localVersion(path: string): Promise<Array<string | number>> {
  const top = await stat(path);
  if (!top.isDirectory()) {
    // the files beside it may be its external data: their change is a new version too
    const beside = await readdir(join(path, ".."), { withFileTypes: true });
    const stats = await Promise.all(
      beside
        .filter((e) => e.isFile())
        .map(async (e) => [e.name, (await stat(join(path, "..", e.name))).mtimeMs]),
    );
    return [path, top.size, top.mtimeMs, ...stats.flat()];
  }
  const { files } = await snapshotFromFolder(path);
  const stats = await Promise.all(files.map((file) => stat(join(path, ...file.split("/")))));
  return [path, ...files.flatMap((file, i) => [file, stats[i]?.size ?? 0, stats[i]?.mtimeMs ?? 0])];
}

/**
 * Plain URLs (`https://host/path/model.onnx`), `file://` URLs and local paths (a .onnx file or a model folder),
 * fetched or copied into `$GPUX_HOME/url/` and registered under a name derived from the source, or `--name`.
 */
export class UrlRegistry implements Registry {
  readonly name = urlPlugin.name;
  readonly takesNameAndDigest = true;
  private readonly sources = new WeakMap<ModelRef, UrlSource>();
  private readonly plans = new Map<string, UrlPlan>();
  private readonly digest?: string;
  private origin?: string;

  constructor(private readonly options: RegistryOptions) {
    this.digest = checkDigest(options.sha256);
  }

  get source(): string {
    return this.origin ?? "url";
  }

  private get cache(): UrlCache {
    if (!this.options.home) throw new Error("the URL registry was created without gpux's home");
    return new UrlCache(this.options.home);
  }

  parse(text: string, typed: string): ModelRef | undefined {
    const source = parseUrlSource(text);
    if (!source) return undefined;
    const repoId =
      this.options.name !== undefined ? checkStoreName(this.options.name) : derivedStoreName(source);
    const ref: ModelRef = { registry: this.name, repoId, typed };
    this.sources.set(ref, source);
    return ref;
  }

  /** The URL (without its query, which may hold a token) or the path. */
  describe(ref: ModelRef): string {
    const source = this.sources.get(ref);
    return source ? describeSource(source) : ref.typed;
  }

  async info(ref: ModelRef): Promise<RemoteModel> {
    const source = this.sources.get(ref);
    if (!source) throw new RuntimeFailure(`'${ref.typed}' was not parsed by the URL registry.`);
    if (ref.revision) {
      throw new UserError(`'${ref.typed}' is a file, and a file has no revision '${ref.revision}'.`, {
        hint: "Drop --revision; pull another URL or path for another version.",
      });
    }
    const label = describeSource(source);
    let version: Array<string | number | undefined>;
    let size: number | undefined;
    if (source.kind === "http") {
      if (this.options.offline) {
        throw new UserError(`'${ref.typed}' is on the web, and gpux is offline.`, {
          hint: "Pull it once online; `gpux run` then uses the stored copy without the network.",
        });
      }
      const probed = await probeUrl(source.url.href, label, this.options.token);
      version = ["http", source.url.href, probed.size, probed.version];
      size = probed.size;
    } else {
      if (!(await stat(source.path).catch(() => undefined))) throw localMissing(label);
      version = ["local", ...(await localVersion(source.path))];
    }
    const commit = commitOf([...version, this.digest]);
    this.origin = label;
    this.plans.set(commit, {
      source,
      dir: this.cache.snapshotDir(ref.repoId, commit),
      label,
      sha256: this.digest,
      token: this.options.token,
      size,
    });
    return { ref, repoId: ref.repoId, revision: onlyRevision, commit };
  }

  async remember(): Promise<void> {
    // a file has one revision: nothing to record
  }

  async pull(remote: RemoteModel, options: PullOptions): Promise<PulledModel> {
    const plan = this.plans.get(remote.commit);
    if (!plan) throw new RuntimeFailure(`Pull of ${remote.repoId} was not resolved first.`);
    const pulled =
      plan.source.kind === "http"
        ? await fetchUrlModel(plan, plan.source.url, options)
        : await importLocalModel(plan, plan.source.path, options);
    if (options.dryRun) return { remote, ...pulled };
    const files = pulled.files.map((f) => f.path);
    const card = files.includes("README.md") ? await snapshotFromFolder(plan.dir) : undefined;
    return {
      remote,
      ...pulled,
      snapshot: {
        dir: plan.dir,
        files,
        repoId: remote.repoId,
        commit: remote.commit,
        pipelineTag: card?.pipelineTag,
      },
    };
  }

  purge(request: PurgeRequest): Promise<number> {
    return this.cache.purge(request);
  }
}

/** Plain URLs and local files as a plug-in: `url`; URLs ending in `.onnx`, `file://` and paths claimed. */
export const urlPlugin: RegistryPlugin = {
  name: "url",
  aliases: [],
  claims: claimsUrlSource,
  create: (options) => new UrlRegistry(options),
};
