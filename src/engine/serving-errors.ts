import { ExitCode, errorMessage, GpuxError } from "../util/errors.js";
import type { WireError } from "./worker-protocol.js";

/** The model's queue is full (max_concurrency requests admitted): HTTP 429, retry later. */
export class QueueFullError extends GpuxError {
  readonly exitCode = ExitCode.runtimeFailure;
  readonly httpStatus = 429;
}

/** The model is loading, failed to load, or the server is shutting down: HTTP 503. */
export class UnavailableError extends GpuxError {
  readonly exitCode = ExitCode.runtimeFailure;
  readonly httpStatus = 503;
}

/** A request was not answered within timeout_ms: HTTP 504. */
export class DeadlineError extends GpuxError {
  readonly exitCode = ExitCode.runtimeFailure;
  readonly httpStatus = 504;
}

/** The inference worker died while running the request (a native abort, killed): HTTP 503, retry. */
export class WorkerCrashedError extends GpuxError {
  readonly exitCode = ExitCode.runtimeFailure;
  readonly httpStatus = 503;
}

/** A GpuxError rebuilt from a status and message that crossed a worker boundary. */
export class RemoteError extends GpuxError {
  /** The exit code of the error's own class, so `serve` and `run` exit alike for the same broken model. */
  readonly exitCode: ExitCode;
  constructor(
    message: string,
    readonly httpStatus: number,
    hint?: string,
  ) {
    super(message, { hint });
    this.exitCode =
      httpStatus === 404
        ? ExitCode.notFound
        : httpStatus < 500
          ? ExitCode.userError
          : ExitCode.runtimeFailure;
  }
}

/** An error as it crosses a worker boundary: a GpuxError keeps its status and hint, anything else is a 500. */
export function wireError(error: unknown): WireError {
  if (error instanceof GpuxError)
    return { message: error.message, hint: error.hint, status: error.httpStatus };
  return { message: errorMessage(error).split("\n")[0] ?? "unknown error", status: 500 };
}
