import type { Snapshot } from "../convert/converter.js";
import type { ProgressSink } from "../util/progress.js";

/** A parsed model reference: which registry, which repo, which revision. */
export interface ModelRef {
  /** Registry name as stored (`huggingface`). */
  registry: string;
  /** Repo id as typed (`org/Name`, or `gpt2`). */
  repoId: string;
  /** Branch, tag or commit the user asked for; undefined means the registry's default (`main`). */
  revision?: string;
  /** The text the user typed, kept for messages and the manifest. */
  typed: string;
}

/** One file of a model revision, as the registry declares it. */
export interface RemoteFile {
  /** Path inside the repo, forward slashes, checked safe (no `..`, not absolute). */
  path: string;
  size: number;
  /** Git blob id (sha1) — the cache's blob name for non-LFS files. */
  oid?: string;
  /** sha256 of the content for LFS files (the cache's blob name for those). */
  lfsSha256?: string;
}

/** What a registry says about one revision of a model. */
export interface RemoteModel {
  ref: ModelRef;
  /** Canonical repo id (the registry's spelling, e.g. `org/Name` for `org/name`). */
  repoId: string;
  revision: string;
  /** Commit sha the revision points at (40 hex). */
  commit: string;
  pipelineTag?: string;
  /** Files, when listed (a fast re-pull does not list them). */
  files?: RemoteFile[];
}

export interface PullOptions {
  /** ONNX variant to fetch: fp32 (default), fp16, q8, q4, … */
  variant?: string;
  /** Extra globs of repo files to fetch (picomatch). */
  include?: string[];
  /** Globs of repo files never to fetch. */
  exclude?: string[];
  /** Re-download and re-verify files already in the cache. Default false. */
  force?: boolean;
  /** List what would be fetched, fetch nothing. Default false. */
  dryRun?: boolean;
  progress?: ProgressSink;
  /** Told what the chosen files are (an ONNX model, or the checkpoint format to convert) before they download. */
  onSelected?: (format: PulledModel["format"]) => void;
}

/** A file chosen for download, with where it landed and its digest. */
export interface PulledFile extends RemoteFile {
  sha256: string;
  /** True when it was already in the cache and only verified. */
  cached: boolean;
}

export interface PulledModel {
  remote: RemoteModel;
  files: PulledFile[];
  /** Files on disk (the cache snapshot); undefined for a dry run. */
  snapshot?: Snapshot;
  /** What the chosen files are: onnx, safetensors, pytorch, tensorflow, none. */
  format: string;
  /** Bytes actually transferred over the network. */
  downloadedBytes: number;
}

/** A place models come from. Adding one means one class and one line in registries.ts; the CLI never names it. */
export interface Registry {
  /** Name used in the store (`huggingface`). */
  readonly name: string;
  /** Names accepted by `--registry` and as a `name:` prefix. */
  readonly aliases: readonly string[];
  /** Parse what the user typed (prefix already stripped); undefined when it is not this registry's syntax. */
  parse(text: string, typed: string): ModelRef | undefined;
  /** Resolve the revision to a commit (one request; from the cache when offline). */
  info(ref: ModelRef): Promise<RemoteModel>;
  /** Record that the revision resolved to this commit (a cache ref), when the files are already in the store. */
  remember(remote: RemoteModel): Promise<void>;
  /** Where files of a model come from, for the manifest (an endpoint URL). */
  readonly source: string;
  /** Choose, download and verify the files of a resolved revision. */
  pull(remote: RemoteModel, options: PullOptions): Promise<PulledModel>;
}
