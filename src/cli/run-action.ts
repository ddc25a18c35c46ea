import { ExitCode, errorMessage, GpuxError } from "../util/errors.js";
import { isVerbose } from "../util/log.js";
import { redactUrls } from "../util/redact-url.js";

/** Every line reaches stderr through here, with passwords inside URLs (HF_ENDPOINT, proxies) redacted. */
const printError = (text: string) => process.stderr.write(redactUrls(text));

/** Print an error the way every command does: message, one line of advice, stack only with --verbose. */
export function reportError(error: unknown): number {
  if (error instanceof GpuxError) {
    printError(`error: ${error.message}\n`);
    if (error.hint) printError(`hint: ${error.hint}\n`);
    if (isVerbose() && error.cause instanceof Error) printError(`${error.cause.stack}\n`);
    return error.exitCode;
  }
  printError(`error: unexpected failure: ${errorMessage(error)}\n`);
  printError("hint: this is a bug in gpux; run again with --verbose and report the output.\n");
  if (isVerbose() && error instanceof Error) printError(`${error.stack}\n`);
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
