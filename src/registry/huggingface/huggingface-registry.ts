import { rm } from "node:fs/promises";
import { downloadBlob, verifyFile } from "../../net/download-blob.js";
import { NotFoundError, RuntimeFailure, UserError } from "../../util/errors.js";
import { silentProgress } from "../../util/progress.js";
import { envSettings } from "../../util/settings.js";
import { eachLimited } from "../each-limited.js";
import type {
  ModelRef,
  PrunedFile,
  PruneRequest,
  PulledFile,
  PulledModel,
  PullOptions,
  PurgeRequest,
  Registry,
  RegistryPlugin,
  RemoteFile,
  RemoteModel,
  SearchHit,
  SearchQuery,
} from "../registry.js";
import { isHex } from "../safe-repo-path.js";
import { selectFiles } from "../select-files.js";
import { HubApi } from "./hub-api.js";
import { HubCache } from "./hub-cache.js";
import { hubHttpError } from "./hub-errors.js";
import { searchHub } from "./hub-search.js";
import { type HubSettings, type HubSettingsOptions, hubSettings } from "./hub-settings.js";
import { hubOrigin, parseHubRef } from "./parse-hub-ref.js";
import { pruneHubCache } from "./prune-cache.js";
import { purgeCacheFiles } from "./purge-cache-files.js";

export interface HuggingFaceRegistryOptions extends HubSettingsOptions {
  /** Files downloaded at once. Default 4 (GPUX_PULL_CONCURRENCY). */
  concurrency?: number;
}

const blobName = (file: RemoteFile) => file.lfsSha256 ?? file.oid;

/** The Hugging Face Hub (or a mirror in HF_ENDPOINT), with the shared Hugging Face cache underneath. */
export class HuggingFaceRegistry implements Registry {
  readonly name = huggingFacePlugin.name;
  readonly settings: HubSettings;
  readonly cache: HubCache;
  private readonly api: HubApi;
  private readonly concurrency: number;

  constructor(options: HuggingFaceRegistryOptions = {}) {
    this.settings = hubSettings(options);
    this.cache = new HubCache(this.settings.cacheDir);
    this.api = new HubApi(this.settings);
    this.concurrency = options.concurrency ?? envSettings.pullConcurrency();
  }

  get source(): string {
    return this.settings.endpoint;
  }

  async remember(remote: RemoteModel): Promise<void> {
    await this.cache.writeRef(remote.repoId, remote.revision, remote.commit);
  }

  search(query: SearchQuery): Promise<SearchHit[]> {
    return searchHub(this.settings, query);
  }

  parse(text: string, typed: string): ModelRef | undefined {
    return parseHubRef(text, typed, [hubOrigin, this.settings.endpoint]);
  }

  purge(request: PurgeRequest): Promise<number> {
    return purgeCacheFiles(this.cache, request.repoId, request.commit, request.files, request.keep);
  }

  prune(request: PruneRequest): Promise<PrunedFile[]> {
    return pruneHubCache(this.cache, request);
  }

  async info(ref: ModelRef): Promise<RemoteModel> {
    if (!this.settings.offline) return this.api.resolveRevision(ref);
    const revision = ref.revision ?? "main";
    const repoId = await this.cache.findRepoId(ref.repoId);
    const commit = repoId && (isHex(revision, 40) ? revision : await this.cache.readRef(repoId, revision));
    if (!repoId || !commit || (await this.cache.snapshotFiles(repoId, commit)).length === 0) {
      throw new NotFoundError(
        `'${ref.repoId}@${revision}' is not in the Hugging Face cache, and gpux is offline.`,
        {
          hint: `Pull it once online (unset HF_HUB_OFFLINE, drop --offline), or check --cache-dir (${this.settings.cacheDir}).`,
        },
      );
    }
    return { ref, repoId, revision, commit };
  }

  private async listFiles(remote: RemoteModel): Promise<RemoteFile[]> {
    if (remote.files) return remote.files;
    if (!this.settings.offline) return this.api.listFiles(remote);
    const { files: cached, missing } = await this.cache.snapshotContents(remote.repoId, remote.commit);
    // A link whose blob is gone stays listed, so the pull names the missing file instead of skipping it.
    return [...cached, ...missing].map((file) => ({
      path: file.path,
      size: file.size,
      lfsSha256: isHex(file.blob, 64) ? file.blob : undefined,
      oid: isHex(file.blob, 40) ? file.blob : undefined,
    }));
  }

  async pull(remote: RemoteModel, options: PullOptions = {}): Promise<PulledModel> {
    const progress = options.progress ?? silentProgress;
    if (options.force && this.settings.offline && !options.dryRun) {
      throw new UserError("--force downloads every file again, and gpux is offline: nothing was changed.", {
        hint: "Drop --force to verify the cached files in place, or go online (unset HF_HUB_OFFLINE, drop --offline).",
      });
    }
    const all = await this.listFiles(remote);
    const selection = selectFiles(
      all.map((f) => f.path),
      options,
    );
    const chosen = all.filter((f) => selection.files.includes(f.path));
    if (options.dryRun) {
      return {
        remote,
        // a file already in the cache (size only; a pull verifies it) is not fetched again
        files: await Promise.all(
          chosen.map(async (f) => {
            const blob = blobName(f);
            const size = blob ? await this.cache.blobSize(remote.repoId, blob) : undefined;
            return { ...f, sha256: "", cached: !options.force && size === f.size };
          }),
        ),
        format: selection.format,
        downloadedBytes: 0,
      };
    }
    options.onSelected?.(selection.format);
    const total = chosen.reduce((sum, f) => sum + f.size, 0);
    const done = new Map<string, number>();
    const lastEmit = new Map<string, number>();
    const report = (file: string, bytes: number, size: number) => {
      done.set(file, bytes);
      // At most ten events a second per file (plus the last), so --json stays readable on big files.
      const now = Date.now();
      if (bytes < size && now - (lastEmit.get(file) ?? 0) < 100) return;
      lastEmit.set(file, now);
      progress.emit({ phase: "download", file, bytes, total: size });
      progress.emit({ phase: "download", bytes: [...done.values()].reduce((a, b) => a + b, 0), total });
    };
    const pulled: PulledFile[] = [];
    let downloadedBytes = 0;
    await eachLimited(chosen, this.concurrency, async (file) => {
      const blob = blobName(file);
      if (!blob) {
        throw new RuntimeFailure(`The Hub gave no digest for '${file.path}' of '${remote.repoId}'.`, {
          hint: "HF_ENDPOINT may not be a Hugging Face Hub; check it.",
        });
      }
      const dest = this.cache.blobPath(remote.repoId, blob);
      const expected = { size: file.size, sha256: file.lfsSha256, gitOid: file.oid };
      const label = `'${file.path}' of '${remote.repoId}'`;
      let sha256: string | undefined;
      let cached = false;
      // A cached blob is never deleted here: a fresh copy is verified as `.incomplete` and renamed over it,
      // so an interrupted or failing --force (or repair) leaves the old bytes where they were.
      if (!options.force && (await this.cache.blobSize(remote.repoId, blob)) !== undefined) {
        const check = await verifyFile(dest, expected);
        if (check.ok) {
          sha256 = check.sha256;
          cached = true;
        } else if (this.settings.offline) {
          throw new RuntimeFailure(`${label} in the cache is corrupt, and gpux is offline.`, {
            hint: "Pull it again online to re-download it.",
          });
        }
      }
      if (!sha256) {
        if (this.settings.offline) {
          throw new NotFoundError(`${label} is not in the cache, and gpux is offline.`, {
            hint: "Pull it once online, or pass --exclude for files you do not need.",
          });
        }
        // --force starts the copy afresh rather than resuming a partial file it may distrust
        if (options.force) await rm(`${dest}.incomplete`, { force: true });
        const result = await downloadBlob({
          url: `${this.settings.endpoint}/${remote.repoId}/resolve/${remote.commit}/${file.path.split("/").map(encodeURIComponent).join("/")}`,
          dest,
          expected,
          auth: { token: this.settings.token, tokenOrigin: new URL(this.settings.endpoint).origin },
          label,
          onBytes: (bytes) => report(file.path, bytes, file.size),
          httpError: (status, errorCode) =>
            hubHttpError(status, {
              repoId: remote.repoId,
              revision: remote.revision,
              endpoint: this.settings.endpoint,
              file: file.path,
              hasToken: Boolean(this.settings.token),
              errorCode,
            }),
        });
        sha256 = result.sha256;
        downloadedBytes += result.fetched;
      }
      report(file.path, file.size, file.size);
      progress.emit({
        phase: "verify",
        file: file.path,
        message: cached ? "in cache, verified" : "verified",
      });
      await this.cache.linkSnapshotFile(remote.repoId, remote.commit, file.path, blob);
      pulled.push({ ...file, sha256, cached });
    });
    await this.cache.writeRef(remote.repoId, remote.revision, remote.commit);
    pulled.sort((a, b) => (a.path < b.path ? -1 : 1));
    return {
      remote,
      files: pulled,
      format: selection.format,
      downloadedBytes,
      snapshot: {
        dir: this.cache.snapshotDir(remote.repoId, remote.commit),
        files: pulled.map((f) => f.path),
        repoId: remote.repoId,
        commit: remote.commit,
        pipelineTag: remote.pipelineTag,
      },
    };
  }
}

/** The Hugging Face Hub as a registry plug-in: `huggingface`, `hf:` for short. */
export const huggingFacePlugin: RegistryPlugin = {
  name: "huggingface",
  aliases: ["hf"],
  create: (options) => new HuggingFaceRegistry(options),
};
