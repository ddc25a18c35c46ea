/**
 * Errors gpux shows to people. Each carries the exit code the CLI uses, the HTTP status the server answers
 * with, and one line of advice. Anything that is not a GpuxError is a bug and is reported as such.
 */

/** Documented CLI exit codes (docs/reference/cli.md). */
export const ExitCode = {
  ok: 0,
  userError: 1,
  notFound: 2,
  runtimeFailure: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface GpuxErrorOptions {
  /** One line telling the user what to do next. */
  hint?: string;
  /** The underlying error, shown with --verbose. */
  cause?: unknown;
}

export abstract class GpuxError extends Error {
  abstract readonly exitCode: ExitCode;
  abstract readonly httpStatus: number;
  readonly hint?: string;

  constructor(message: string, options: GpuxErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
}

/** Bad input, bad config, bad flags: the user can fix it. Exit 1, HTTP 400. */
export class UserError extends GpuxError {
  readonly exitCode = ExitCode.userError;
  readonly httpStatus: number = 400;
}

/** A model, file or revision that does not exist. Exit 2, HTTP 404. */
export class NotFoundError extends GpuxError {
  readonly exitCode = ExitCode.notFound;
  readonly httpStatus = 404;
}

/** The model or runtime failed (session creation, inference, conversion, network). Exit 3, HTTP 500. */
export class RuntimeFailure extends GpuxError {
  readonly exitCode = ExitCode.runtimeFailure;
  readonly httpStatus: number = 500;
}

/** The message of any thrown value, for places that must not throw while reporting. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
