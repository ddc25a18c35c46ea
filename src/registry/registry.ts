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

/** Settings every registry may honour (flags first, then its own environment variables). */
export interface RegistryOptions {
  /** --token: credentials for private models. */
  token?: string;
  /** --offline: answer from the registry's local cache only. */
  offline?: boolean;
  /** --cache-dir: the registry's own download cache. */
  cacheDir?: string;
  /** Files downloaded at once. */
  concurrency?: number;
  /** Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** gpux's home, for registries that keep their downloads there (OCI blobs); app/ passes it. */
  home?: string;
  /** --plain-http: speak HTTP, not HTTPS, to an OCI registry that is not on loopback. */
  plainHttp?: boolean;
  /** --name: the store name of a URL or local pull (default: derived from the file or folder name). */
  name?: string;
  /** --sha256: the digest a URL's or local file's content must have (checked before anything is registered). */
  sha256?: string;
}

/** The files of one commit that a removed store entry used, and those other entries still use. */
export interface PurgeRequest {
  repoId: string;
  commit: string;
  /** Repo paths the removed entry listed. */
  files: readonly string[];
  /** Repo paths of the same commit that remaining entries list: never deleted. */
  keep: ReadonlySet<string>;
}

/** `gpux prune`: the files store entries use, which a registry never deletes from its cache. */
export interface PruneRequest {
  /** Real paths (links followed) of every file some store entry reaches. */
  used: ReadonlySet<string>;
  /** List what would go, delete nothing. */
  dryRun: boolean;
}

/** A cache file `gpux prune` removed (or, for a dry run, would remove). */
export interface PrunedFile {
  path: string;
  bytes: number;
}

/** `gpux search`: what to look for. */
export interface SearchQuery {
  text: string;
  /** Only models of this task (pipeline tag). */
  task?: string;
  /** Only models of this library (`transformers`, `onnx` …), where the registry knows it. */
  library?: string;
  /** Only models that ship ONNX. */
  onnxOnly?: boolean;
  limit: number;
}

/** One model a search found. */
export interface SearchHit {
  /** Where it was found: `huggingface`, `oci://host`. */
  source: string;
  /** What `gpux pull` takes. */
  reference: string;
  task?: string;
  /** True when the model ships ONNX; false when a pull converts it; undefined when not known. */
  onnx?: boolean;
  sizeBytes?: number;
  downloads?: number;
  likes?: number;
}

/**
 * A place models come from, implemented in one folder under registry/ (its reference syntax, id rules, cache
 * layout and removal) and made known by one `registerRegistry()` call; nothing above app/ names one.
 */
export interface Registry {
  /** Name used in the store (`huggingface`); the plug-in's `name`. */
  readonly name: string;
  /**
   * Parse what the user typed (a `name:` prefix already stripped); undefined when it is not this registry's
   * syntax. This is where ids are validated.
   */
  parse(text: string, typed: string): ModelRef | undefined;
  /** What a pull says it resolves (a URL, `host/repo:tag`); absent: `repoId@revision` (default `main`). */
  describe?(ref: ModelRef): string;
  /** Resolve the revision to a commit (one request; from the cache when offline). Validates what it answers. */
  info(ref: ModelRef): Promise<RemoteModel>;
  /** Record that the revision resolved to this commit (a cache ref), when the files are already in the store. */
  remember(remote: RemoteModel): Promise<void>;
  /** Where files of a model come from, for the manifest (an endpoint URL). */
  readonly source: string;
  /** Choose, download and verify the files of a resolved revision. */
  pull(remote: RemoteModel, options: PullOptions): Promise<PulledModel>;
  /** `rm --purge`: delete the registry's cached files that only the removed entry used; returns bytes freed. */
  purge(request: PurgeRequest): Promise<number>;
  /** `gpux prune`: delete cached files nothing uses (absent: the registry keeps no cache of its own). */
  prune?(request: PruneRequest): Promise<PrunedFile[]>;
  /** `gpux search`, for registries that can list models (absent: the registry cannot). */
  search?(query: SearchQuery): Promise<SearchHit[]>;
  /** True for a registry that honours --name and --sha256 (files fetched as they are); others refuse them. */
  readonly takesNameAndDigest?: boolean;
}

/** How a registry is made known to gpux: its names and how to build it. */
export interface RegistryPlugin {
  /** Name used in the store and as the main `--registry` value (`huggingface`). */
  readonly name: string;
  /** Other names accepted by `--registry` and as a `name:` prefix (`hf`). */
  readonly aliases: readonly string[];
  /**
   * True for text that is unmistakably this registry's syntax (`oci://…`, `host.name/repo:tag`): such a
   * reference is read by it rather than by the default registry, with no prefix or --registry needed.
   */
  claims?(text: string): boolean;
  create(options: RegistryOptions): Registry;
}
