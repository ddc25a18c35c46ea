import type { PulledFile, PullOptions } from "../registry.js";
import type { FileSelection } from "../select-files.js";
import type { UrlSource } from "./url-source.js";

/** One resolved URL or local pull, as info() left it for pull(). */
export interface UrlPlan {
  source: UrlSource;
  /** The cache folder the files land in (the entry's snapshot). */
  dir: string;
  /** For messages: the URL or the path. */
  label: string;
  /** --sha256: what the model file must hash to (lower-case hex). */
  sha256?: string;
  /** --token: sent as a bearer token to the URL's own origin. */
  token?: string;
  /** A URL's size, as info() probed it (not asked again). */
  size?: number;
}

/** What fetching or importing the files produced. */
export interface UrlPullResult {
  files: PulledFile[];
  format: FileSelection["format"];
  downloadedBytes: number;
}

export type UrlPullOptions = Pick<
  PullOptions,
  "include" | "exclude" | "variant" | "force" | "dryRun" | "progress" | "onSelected"
>;
