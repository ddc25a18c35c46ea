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
    const layers: PushResult["layers"] = [];
    const concurrency = options.concurrency ?? Number(process.env.GPUX_PULL_CONCURRENCY ?? 4);
    await eachLimited(blobs, concurrency, async (blob) => {
      const digest = `sha256:${blob.sha256}`;
      let outcome: LayerOutcome = "exists";
      if (!(await client.hasBlob(target.repository, digest))) {
        outcome = await client.uploadBlob(
          target.repository,
          { digest, size: blob.size, file: blob.file },
          {
            mountFrom,
            onBytes: (bytes) => progress.emit({ phase: "upload", file: blob.path, bytes, total: blob.size }),
          },
        );
      }
      progress.emit({ phase: "upload", file: blob.path, message: `${blob.path}: ${outcome}` });
      layers.push({ path: blob.path, digest, size: blob.size, outcome });
    });
    layers.sort(
      (a, b) => blobs.findIndex((f) => f.path === a.path) - blobs.findIndex((f) => f.path === b.path),
    );

    let manifest: Buffer;
    if (options.modelcar) {
      const layer = layers[0] as PushResult["layers"][number];
      const config = modelcarConfig(layer.digest);
      const configDigest = await uploadSmall(client, target.repository, config);
      manifest = modelcarManifest(
        { mediaType: ociImageConfig, digest: configDigest, size: config.length },
        { mediaType: "", digest: layer.digest, size: layer.size },
        options.task,
      );
    } else {
      const packed = modelPackManifest(
        layers.map((l) => ({ path: l.path, digest: l.digest, size: l.size })),
        { name: options.name, task: options.task, format: options.format, source: options.source },
      );
      const configDigest = await uploadSmall(client, target.repository, packed.config);
      manifest = packed.manifest(configDigest);
    }
    const digest = await client.putManifest(target.repository, tag, manifest, ociManifest);
    return { reference: `${referenceName(target)}:${tag}`, digest, mediaType: ociManifest, layers };
  } finally {
    await cleanup?.();
  }
}

/** A config blob (small, in memory): uploaded unless the repository has it. */
async function uploadSmall(client: OciClient, repository: string, bytes: Buffer): Promise<string> {
  const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  if (!(await client.hasBlob(repository, digest)))
    await client.uploadBlob(repository, { digest, size: bytes.length, bytes });
  return digest;
}
