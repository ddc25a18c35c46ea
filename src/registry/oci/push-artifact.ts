/**
 * `gpux push`: files of a model into a repository as a ModelPack artifact (one raw layer per file, its path
 * in `org.cncf.model.filepath`) or, with `modelcar`, as an image whose one tar layer holds them under
 * `/models`. Blobs the repository has are skipped (HEAD), blobs another repository of the same registry has
 * are mounted, the rest uploaded; the manifest goes last, so a tag never names missing blobs.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { UserError } from "../../util/errors.js";
import { type ProgressSink, silentProgress } from "../../util/progress.js";
import { envSettings } from "../../util/settings.js";
import { eachLimited } from "../each-limited.js";
import type { RegistryOptions } from "../registry.js";
import { BlobStore } from "./blob-store.js";
import { ociImageConfig, ociManifest } from "./media-types.js";
import { modelcarConfig, modelcarManifest, modelPackManifest } from "./modelpack.js";
import { OciClient } from "./oci-client.js";
import { type OciReference, parseOciReference, referenceName } from "./oci-reference.js";
import { writeTar } from "./tar.js";

export interface PushFile {
  /** Path inside the model (`onnx/model.onnx`). */
  path: string;
  /** The file on disk. */
  file: string;
  size: number;
  /** sha256 hex when known (the store's manifest records it); else it is computed. */
  sha256?: string;
}

export interface PushArtifactOptions extends Pick<RegistryOptions, "plainHttp" | "env" | "concurrency"> {
  /** gpux's home: the modelcar's tar is built in its blob store. */
  home: string;
  name: string;
  task?: string;
  format: string;
  modelcar?: boolean;
  /** Where the model was pulled from (`host/repo`): blobs are mounted from there when it is the same registry. */
  source?: string;
  progress?: ProgressSink;
}

export type LayerOutcome = "exists" | "mounted" | "uploaded";

export interface PushResult {
  reference: string;
  /** `sha256:…` of the manifest. */
  digest: string;
  mediaType: string;
  layers: Array<{ path: string; digest: string; size: number; outcome: LayerOutcome }>;
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** A push target: a tag, never a digest (a digest names what is pushed, it cannot be chosen). */
export function parsePushTarget(typed: string): OciReference {
  const ref = parseOciReference(typed);
  if (!ref) {
    throw new UserError(`'${typed}' is not an OCI reference.`, {
      hint: "Write oci://host[:port]/repo[:tag], or host.name/repo:tag (a host with a dot or a port).",
    });
  }
  if (ref.digest) {
    throw new UserError(`A push names a tag, not a digest ('${typed}').`, { hint: "Write host/repo:tag." });
  }
  return ref;
}

export async function pushArtifact(
  typed: string,
  files: readonly PushFile[],
  options: PushArtifactOptions,
): Promise<PushResult> {
  const target = parsePushTarget(typed);
  const concurrency = options.concurrency ?? envSettings.pullConcurrency(options.env);
  const tag = target.tag ?? "latest";
  const progress = options.progress ?? silentProgress;
  const client = new OciClient({ host: target.host, plainHttp: options.plainHttp, env: options.env });
  const source = options.source ? parseOciReference(`oci://${options.source}`) : undefined;
  const mountFrom =
    source && source.host === target.host && source.repository !== target.repository
      ? source.repository
      : undefined;

  let blobs: Array<PushFile & { sha256: string }>;
  let cleanup: (() => Promise<void>) | undefined;
  if (options.modelcar) {
    const store = new BlobStore(options.home);
    await mkdir(store.blobsDir, { recursive: true });
    const temp = join(store.blobsDir, `.tar-${process.pid}-${Date.now()}`);
    progress.emit({ phase: "pack", message: `packing ${files.length} files under /models` });
    // uploaded from where it is built, then deleted: a copy in the blob store would be linked by no snapshot,
    // and so never freed
    cleanup = () => rm(temp, { force: true });
    const tar = await writeTar(
      temp,
      files.map((f) => ({ path: `models/${f.path}`, file: f.file, size: f.size })),
    ).catch(async (error) => {
      await rm(temp, { force: true });
      throw error;
    });
    blobs = [{ path: "models.tar", file: temp, size: tar.size, sha256: tar.sha256 }];
  } else {
    blobs = await Promise.all(
      files.map(async (f) => ({ ...f, sha256: f.sha256 ?? (await sha256OfFile(f.file)) })),
    );
  }
  try {
    // the config and manifest need only the digests, known now: the config goes up beside the layers
    const descriptors = blobs.map((b) => ({ path: b.path, digest: `sha256:${b.sha256}`, size: b.size }));
    const { config, manifest } = options.modelcar
      ? modelcarArtifact(descriptors[0] as (typeof descriptors)[number], options.task)
      : modelPackManifest(descriptors, {
          name: options.name,
          task: options.task,
          format: options.format,
          source: options.source,
        });
    const configDigest = `sha256:${createHash("sha256").update(config).digest("hex")}`;
    const layers: PushResult["layers"] = [];
    // the largest first, so that the longest upload never waits for a free slot behind small ones
    const bySize = [...descriptors].sort((a, b) => b.size - a.size);
    await Promise.all([
      eachLimited(bySize, concurrency, async (blob) => {
        const file = (blobs.find((b) => b.path === blob.path) as PushFile).file;
        let outcome: LayerOutcome = "exists";
        if (!(await client.hasBlob(target.repository, blob.digest))) {
          outcome = await client.uploadBlob(
            target.repository,
            { digest: blob.digest, size: blob.size, file },
            {
              mountFrom,
              onBytes: (bytes) =>
                progress.emit({ phase: "upload", file: blob.path, bytes, total: blob.size }),
            },
          );
        }
        progress.emit({ phase: "upload", file: blob.path, message: `${blob.path}: ${outcome}` });
        layers.push({ ...blob, outcome });
      }),
      uploadSmall(client, target.repository, config, configDigest),
    ]);
    layers.sort(
      (a, b) =>
        descriptors.findIndex((f) => f.path === a.path) - descriptors.findIndex((f) => f.path === b.path),
    );
    const digest = await client.putManifest(target.repository, tag, manifest(configDigest), ociManifest);
    return { reference: `${referenceName(target)}:${tag}`, digest, mediaType: ociManifest, layers };
  } finally {
    await cleanup?.();
  }
}

/** A modelcar's config and manifest for its one tar layer. */
function modelcarArtifact(
  layer: { digest: string; size: number },
  task: string | undefined,
): { config: Buffer; manifest: (configDigest: string) => Buffer } {
  const config = modelcarConfig(layer.digest);
  return {
    config,
    manifest: (configDigest) =>
      modelcarManifest(
        { mediaType: ociImageConfig, digest: configDigest, size: config.length },
        { mediaType: "", digest: layer.digest, size: layer.size },
        task,
      ),
  };
}

/** A config blob (small, in memory): uploaded unless the repository has it. */
async function uploadSmall(
  client: OciClient,
  repository: string,
  bytes: Buffer,
  digest: string,
): Promise<void> {
  if (!(await client.hasBlob(repository, digest)))
    await client.uploadBlob(repository, { digest, size: bytes.length, bytes });
}
