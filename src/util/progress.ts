/** One step of a long operation (pull, convert, benchmark), rendered by the CLI as bars, lines or NDJSON. */
export interface ProgressEvent {
  /** e.g. "resolve", "download", "verify", "convert", "validate", "done". */
  phase: string;
  /** File the event is about, relative to the repo. */
  file?: string;
  /** Bytes done so far for `file` (or overall when no file). */
  bytes?: number;
  /** Total bytes expected, when known. */
  total?: number;
  /** Free text for humans. */
  message?: string;
}

export interface ProgressSink {
  emit(event: ProgressEvent): void;
}

/** A sink that drops everything, for library callers that want no progress. */
export const silentProgress: ProgressSink = { emit() {} };
