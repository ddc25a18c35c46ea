import { rm } from "node:fs/promises";
import { downloadBlob } from "../../net/download-blob.js";
import { RuntimeFailure, UserError } from "../../util/errors.js";
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
  RegistryOptions,
  RegistryPlugin,
  RemoteModel,
} from "../registry.js";
import { selectFiles } from "../select-files.js";
import { BlobStore } from "./blob-store.js";
import { isGzipLayer } from "./media-types.js";
import {
  type ImageManifest,
  isIndex,
  memberPath,
  pickFromIndex,
  planLayers,
  taskAnnotation,
} from "./modelpack.js";
import { malformed, OciClient } from "./oci-client.js";
import { registryHttpError } from "./oci-errors.js";
import {
  claimsOciReference,
  type OciReference,
  parseOciReference,
  referenceName,
  referenceRevision,
  storeRepoId,
} from "./oci-reference.js";
import { listTar } from "./tar.js";

/** Files a pull never links into the store entry: gpux writes its own gpux.yml and manifest. */
const generatedFiles = new Set(["gpux.yml", "manifest.json"]);

interface Resolved {
  ref: OciReference;
  manifest: ImageManifest;
}

/** `host/repo` of a ModelRef this registry parsed. */
const ociRefOf = (ref: ModelRef): OciReference => parseOciReference(`oci://${ref.repoId}`) as OciReference;

/**
 * An OCI registry (Distribution API v2): ModelPack artifacts and modelcar images, pulled into the
 * content-addressed blob store under $GPUX_HOME with every blob checked against its digest.
 */
export class OciRegistry implements Registry {
  readonly name = ociPlugin.name;
  private blobStore?: BlobStore;
  private readonly clients = new Map<string, OciClient>();
  private readonly resolved = new Map<string, Resolved>();
  private origin?: string;

  /** Blobs fetched at once: checked when the registry is made, so a bad GPUX_PULL_CONCURRENCY stops a pull first. */
  private readonly concurrency: number;

  constructor(private readonly options: RegistryOptions) {
    this.concurrency = options.concurrency ?? envSettings.pullConcurrency(options.env);
  }

  /** The blob store under gpux's home (app/ passes the home; parsing a reference needs none). */
  private get blobs(): BlobStore {
    if (!this.options.home) throw new Error("the OCI registry was created without gpux's home");
    this.blobStore ??= new BlobStore(this.options.home);
    return this.blobStore;
  }

  get source(): string {
    return this.origin ?? "oci";
  }

  /** The API client of a host (one per host: it keeps the tokens it was given). */
  client(host: string): OciClient {
    let client = this.clients.get(host);
    if (!client) {
      client = new OciClient({ host, plainHttp: this.options.plainHttp, env: this.options.env });
      this.clients.set(host, client);
    }
    return client;
  }

  parse(text: string, typed: string): ModelRef | undefined {
    const ref = parseOciReference(text);
    if (!ref) return undefined;
    // no tag typed: no revision, so that `gpux run host/repo` finds the tag that was pulled (as for a Hub id)
    // and `--revision` may name one; info() asks the registry for `latest`
    return { registry: this.name, repoId: referenceName(ref), revision: ref.digest ?? ref.tag, typed };
  }

  /** `host/repo:tag` or `host/repo@sha256:…`, as Docker writes a reference. */
  describe(ref: ModelRef): string {
    const revision = ref.revision ?? "latest";
    return `${ref.repoId}${revision.startsWith("sha256:") ? "@" : ":"}${revision}`;
  }

  async info(modelRef: ModelRef): Promise<RemoteModel> {
    if (this.options.offline) {
      throw new UserError(`'${modelRef.typed}' is in an OCI registry, and gpux is offline.`, {
        hint: "Pull it once online; `gpux run` then uses the stored copy without the network.",
      });
    }
    const ref = {
      ...ociRefOf(modelRef),
      ...(modelRef.revision?.startsWith("sha256:")
        ? { digest: modelRef.revision }
        : { tag: modelRef.revision }),
    };
    const client = this.client(ref.host);
    this.origin = client.origin;
    let fetched = await client.getManifest(ref.repository, referenceRevision(ref));
    let parsed = this.parseManifest(fetched.bytes, ref.host);
    if (isIndex(fetched.mediaType, parsed as { manifests?: unknown })) {
      const chosen = pickFromIndex(
        (parsed as unknown as { manifests: ImageManifest["layers"] }).manifests ?? [],
      );
      if (!chosen) throw malformed("an empty index", ref.host);
      fetched = await client.getManifest(ref.repository, chosen.digest);
      parsed = this.parseManifest(fetched.bytes, ref.host);
    }
    if (!Array.isArray(parsed.layers) || !parsed.config)
      throw malformed("a manifest without layers", ref.host);
    const commit = fetched.digest.slice("sha256:".length);
    this.resolved.set(commit, { ref, manifest: parsed });
    return {
      ref: modelRef,
      repoId: storeRepoId(ref),
      revision: referenceRevision(ref),
      commit,
      pipelineTag: parsed.annotations?.[taskAnnotation],
    };
  }

  private parseManifest(bytes: Buffer, host: string): ImageManifest {
    try {
      return JSON.parse(bytes.toString("utf8")) as ImageManifest;
    } catch {
      throw malformed("a manifest that is not JSON", host);
    }
  }

  async remember(): Promise<void> {
    // the store records the tags a manifest was seen under; the registry keeps nothing else
  }

  async pull(remote: RemoteModel, options: PullOptions): Promise<PulledModel> {
    const progress = options.progress ?? silentProgress;
    const resolved = this.resolved.get(remote.commit);
    if (!resolved) throw new RuntimeFailure(`Pull of ${remote.repoId} was not resolved first.`);
    const { ref, manifest } = resolved;
    const plans = planLayers(manifest).filter((p) => p.kind === "tar" || !generatedFiles.has(p.path));
    const rawPaths = plans.flatMap((p) => (p.kind === "file" ? [p.path] : []));
    const hasTar = plans.some((p) => p.kind === "tar");
    // a ModelPack of raw files is chosen from like a Hub repo; archives are taken whole
    const selection = hasTar ? undefined : selectFiles(rawPaths, options);
    const chosen = plans.filter((p) => p.kind === "tar" || selection?.files.includes(p.path));
    if (chosen.length === 0) throw malformed("a manifest with no model files", ref.host);
    if (options.dryRun) {
      return {
        remote,
        files: chosen.map((p) => ({
          path: p.kind === "file" ? p.path : p.layer.digest,
          size: p.layer.size,
          sha256: p.layer.digest.slice(7),
          cached: false,
        })),
        format: selection?.format ?? "onnx",
        downloadedBytes: 0,
      };
    }
    if (selection) options.onSelected?.(selection.format);
    const client = this.client(ref.host);
    const total = chosen.reduce((sum, p) => sum + p.layer.size, 0);
    const done = new Map<string, number>();
    let downloadedBytes = 0;
    const layerDigests = [...new Map(chosen.map((p) => [p.layer.digest, p.layer])).values()];
    const cachedBlobs = new Set<string>();
    await eachLimited(layerDigests, this.concurrency, async (layer) => {
      const hex = /^sha256:([a-f0-9]{64})$/.exec(layer.digest)?.[1];
      if (!hex || !Number.isSafeInteger(layer.size) || layer.size < 0)
        throw malformed(`a layer digest ${JSON.stringify(layer.digest)}`, ref.host);
      const label = `blob ${layer.digest.slice(0, 19)}… of ${referenceName(ref)}`;
      const file = chosen.find((p) => p.layer.digest === layer.digest);
      const name = file?.kind === "file" ? file.path : layer.digest;
      if (!options.force && (await this.blobs.size(hex)) === layer.size) {
        cachedBlobs.add(hex);
      } else {
        if (options.force) await rm(`${this.blobs.blobPath(hex)}.incomplete`, { force: true });
        const result = await downloadBlob({
          url: `${client.origin}/v2/${ref.repository}/blobs/${layer.digest}`,
          dest: this.blobs.blobPath(hex),
          expected: { size: layer.size, sha256: hex },
          auth: client.downloadAuth(ref.repository),
          label,
          onBytes: (bytes) => {
            done.set(hex, bytes);
            progress.emit({ phase: "download", file: name, bytes, total: layer.size });
          },
          httpError: (status) => registryHttpError(status, label, ref.host),
        });
        downloadedBytes += result.fetched;
      }
      done.set(hex, layer.size);
      progress.emit({ phase: "download", bytes: [...done.values()].reduce((a, b) => a + b, 0), total });
      progress.emit({ phase: "verify", file: name, message: cachedBlobs.has(hex) ? "in store" : "verified" });
    });
    const files: PulledFile[] = [];
    for (const plan of chosen) {
      const hex = plan.layer.digest.slice(7);
      if (plan.kind === "file") {
        await this.blobs.link(remote.commit, plan.path, hex);
        files.push({ path: plan.path, size: plan.layer.size, sha256: hex, cached: cachedBlobs.has(hex) });
        continue;
      }
      const tar = isGzipLayer(plan.layer.mediaType) ? await this.blobs.gunzip(hex) : this.blobs.blobPath(hex);
      try {
        for (const member of await listTar(tar)) {
          const path = memberPath(member.path, plan.stripPrefix);
          if (!path || generatedFiles.has(path)) continue;
          const sha256 = await this.blobs.addRange(tar, member.offset, member.size);
          await this.blobs.link(remote.commit, path, sha256);
          files.push({ path, size: member.size, sha256, cached: cachedBlobs.has(hex) });
        }
      } finally {
        if (tar !== this.blobs.blobPath(hex)) await rm(tar, { force: true });
      }
      await this.blobs.linkLayer(remote.commit, hex);
    }
    if (files.length === 0) throw malformed("an image with no files under /models", ref.host);
    files.sort((a, b) => (a.path < b.path ? -1 : 1));
    const format =
      selection?.format ??
      selectFiles(
        files.map((f) => f.path),
        options,
      ).format;
    if (!selection) options.onSelected?.(format);
    return {
      remote,
      files,
      format,
      downloadedBytes,
      snapshot: {
        dir: this.blobs.snapshotDir(remote.commit),
        files: files.map((f) => f.path),
        repoId: remote.repoId,
        commit: remote.commit,
        pipelineTag: remote.pipelineTag,
      },
    };
  }

  prune(request: PruneRequest): Promise<PrunedFile[]> {
    return this.blobs.prune(request);
  }

  purge(request: PurgeRequest): Promise<number> {
    return this.blobs.purge(
      request.commit,
      request.files.filter((f) => !request.keep.has(f)),
    );
  }
}

/** OCI registries as a plug-in: `oci`; `oci://…` and `host.name/repo:tag` references are read by it first. */
export const ociPlugin: RegistryPlugin = {
  name: "oci",
  aliases: [],
  claims: claimsOciReference,
  create: (options) => new OciRegistry(options),
};
