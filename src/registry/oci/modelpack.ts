/**
 * ModelPack artifacts (github.com/modelpack/model-spec) and modelcar images, as manifests: what gpux writes on
 * push, and the layers a pull reads out of any manifest (its own, another tool's, or an image's).
 */
import { isSafeRepoPath } from "../safe-repo-path.js";
import {
  dockerManifestList,
  filePathAnnotation,
  isTarLayer,
  modelPackArtifact,
  modelPackConfig,
  modelPackLayerType,
  ociImageConfig,
  ociIndex,
  ociLayerTar,
  ociManifest,
  titleAnnotation,
} from "./media-types.js";

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { os?: string; architecture?: string };
}

export interface ImageManifest {
  schemaVersion: number;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

/** gpux's own annotations on a pushed manifest: what `gpux pull` writes gpux.yml from. */
export const taskAnnotation = "io.gpux.model.task";
export const sourceAnnotation = "io.gpux.model.source";

export interface PackedFile {
  path: string;
  digest: string;
  size: number;
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

/** The ModelPack config and manifest for files already uploaded as one raw layer each. */
export function modelPackManifest(
  files: readonly PackedFile[],
  meta: { name: string; task?: string; format: string; source?: string },
): { config: Buffer; manifest: (configDigest: string) => Buffer } {
  const config = json({
    descriptor: { name: meta.name },
    config: { format: meta.format },
    modelfs: { type: "layers", diffIds: files.map((f) => f.digest) },
  });
  return {
    config,
    manifest: (configDigest) =>
      json({
        schemaVersion: 2,
        mediaType: ociManifest,
        artifactType: modelPackArtifact,
        config: { mediaType: modelPackConfig, digest: configDigest, size: config.length },
        layers: files.map((f) => ({
          mediaType: modelPackLayerType(f.path),
          digest: f.digest,
          size: f.size,
          annotations: { [filePathAnnotation]: f.path, [titleAnnotation]: f.path },
        })),
        annotations: {
          ...(meta.task ? { [taskAnnotation]: meta.task } : {}),
          ...(meta.source ? { [sourceAnnotation]: meta.source } : {}),
        },
      }),
  };
}

/** An image config for the modelcar (one tar layer): the fields a container runtime requires. */
export function modelcarConfig(tarDigest: string): Buffer {
  return json({
    architecture: "amd64",
    os: "linux",
    config: {},
    rootfs: { type: "layers", diff_ids: [tarDigest] },
  });
}

export function modelcarManifest(config: Descriptor, layer: Descriptor, task?: string): Buffer {
  return json({
    schemaVersion: 2,
    mediaType: ociManifest,
    config: { ...config, mediaType: ociImageConfig },
    layers: [{ ...layer, mediaType: ociLayerTar }],
    annotations: task ? { [taskAnnotation]: task } : {},
  });
}

export const isIndex = (mediaType: string, parsed: { manifests?: unknown }) =>
  mediaType === ociIndex || mediaType === dockerManifestList || Array.isArray(parsed.manifests);

/** The manifest an index points at for this machine (linux/amd64), else one without a platform, else the first. */
export function pickFromIndex(manifests: readonly Descriptor[]): Descriptor | undefined {
  return (
    manifests.find((m) => m.platform?.os === "linux" && m.platform.architecture === "amd64") ??
    manifests.find((m) => !m.platform) ??
    manifests[0]
  );
}

/** A layer to fetch: a file at `path`, or an archive whose files are extracted (`stripPrefix` dropped). */
export type LayerPlan =
  | { kind: "file"; path: string; layer: Descriptor }
  | { kind: "tar"; layer: Descriptor; stripPrefix: string };

/** What each layer of a manifest is; a raw layer without a path annotation is left out (nothing names it). */
export function planLayers(manifest: ImageManifest): LayerPlan[] {
  const image = manifest.config.mediaType !== modelPackConfig && manifest.artifactType !== modelPackArtifact;
  return manifest.layers.flatMap((layer): LayerPlan[] => {
    const path = layer.annotations?.[filePathAnnotation] ?? layer.annotations?.[titleAnnotation];
    if (isTarLayer(layer.mediaType)) return [{ kind: "tar", layer, stripPrefix: image ? "models/" : "" }];
    if (path && isSafeRepoPath(path)) return [{ kind: "file", path, layer }];
    return [];
  });
}

/** A tar member's path inside the model, or undefined when it is outside what the layer holds. */
export function memberPath(name: string, stripPrefix: string): string | undefined {
  const clean = name.replace(/^(\.\/|\/)+/, "");
  if (stripPrefix && !clean.startsWith(stripPrefix)) return undefined;
  const path = clean.slice(stripPrefix.length);
  return path && isSafeRepoPath(path) ? path : undefined;
}
