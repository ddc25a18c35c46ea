import { ExitCode, errorMessage, GpuxError } from "../util/errors.js";
import { isVerbose } from "../util/log.js";

/** Print an error the way every command does: message, one line of advice, stack only with --verbose. */
export function reportError(error: unknown): number {
  if (error instanceof GpuxError) {
    process.stderr.write(`error: ${error.message}\n`);
    if (error.hint) process.stderr.write(`hint: ${error.hint}\n`);
    if (isVerbose() && error.cause instanceof Error) process.stderr.write(`${error.cause.stack}\n`);
    return error.exitCode;
  }
  process.stderr.write(`error: unexpected failure: ${errorMessage(error)}\n`);
  process.stderr.write("hint: this is a bug in gpux; run again with --verbose and report the output.\n");
  if (isVerbose() && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  return ExitCode.runtimeFailure;
}

/** Wrap a command action so that errors become messages and documented exit codes. */
export function runAction<Args extends unknown[]>(action: (...args: Args) => Promise<void>) {
  return async (...args: Args): Promise<void> => {
    try {
      await action(...args);
    } catch (error) {
      process.exitCode = reportError(error);
    }
  };
}
