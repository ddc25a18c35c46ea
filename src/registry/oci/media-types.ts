/** The media types gpux writes and reads: OCI image spec, Docker's v2 schema, and the CNCF ModelPack spec. */

export const ociManifest = "application/vnd.oci.image.manifest.v1+json";
export const ociIndex = "application/vnd.oci.image.index.v1+json";
export const dockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
export const dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";

/** Every manifest kind a pull accepts, for the Accept header. */
export const acceptedManifests = [ociManifest, ociIndex, dockerManifest, dockerManifestList];

export const ociImageConfig = "application/vnd.oci.image.config.v1+json";
export const ociLayerTar = "application/vnd.oci.image.layer.v1.tar";
export const ociLayerTarGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
export const dockerLayerTarGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
export const ociEmptyJson = "application/vnd.oci.empty.v1+json";

/** ModelPack (github.com/modelpack/model-spec): the artifact type and its config. */
export const modelPackArtifact = "application/vnd.cncf.model.manifest.v1+json";
export const modelPackConfig = "application/vnd.cncf.model.config.v1+json";
export const modelWeightRaw = "application/vnd.cncf.model.weight.v1.raw";
export const modelWeightConfigRaw = "application/vnd.cncf.model.weight.config.v1.raw";
export const modelDocRaw = "application/vnd.cncf.model.doc.v1.raw";
export const modelCodeRaw = "application/vnd.cncf.model.code.v1.raw";

/** The annotation holding a layer's path inside the model. */
export const filePathAnnotation = "org.cncf.model.filepath";
/** Written by other tools for the same purpose (the OCI image title, ORAS). */
export const titleAnnotation = "org.opencontainers.image.title";

/** True for a layer that is a tar archive (ModelPack `.tar`, OCI image layers), gzip-compressed or not. */
export const isTarLayer = (mediaType: string) =>
  /\.tar(\+gzip)?$/.test(mediaType) || mediaType === dockerLayerTarGzip;
export const isGzipLayer = (mediaType: string) =>
  mediaType.endsWith("+gzip") || mediaType === dockerLayerTarGzip;

/** The ModelPack layer type for a model file: weights, weight configs (tokenizer, config.json) or docs. */
export function modelPackLayerType(path: string): string {
  if (/\.(onnx|onnx_data|onnx\.data|safetensors|bin|pt|pth|h5|pb|tflite|gguf)$|\.onnx_data_\d+$/.test(path))
    return modelWeightRaw;
  if (/\.(md|txt)$/i.test(path) && !/vocab|merges/i.test(path)) return modelDocRaw;
  return modelWeightConfigRaw;
}
