import { ExitCode, errorMessage, GpuxError } from "../util/errors.js";
import { isVerbose } from "../util/log.js";
import { redactUrls } from "../util/redact-url.js";

/** How errors are shown: text on stderr, or (with --json) one JSON object on stdout. */
let errorFormat: { json: boolean; event: boolean } = { json: false, event: false };

/**
 * Set once per command line, before any flag is read: with --json, errors are JSON on stdout as
 * `{"error": {"message", "hint", "exit_code"}}`; `event` adds `"event": "error"` for commands whose --json
 * output is a stream of events (pull, run --batch), so the error is the stream's last event.
 */
export function setErrorFormat(format: { json: boolean; event?: boolean }): void {
  errorFormat = { json: format.json, event: format.event ?? false };
}

/** Every error as message, hint and exit code; anything that is not a GpuxError is a bug in gpux. */
export function describeError(error: unknown): { message: string; hint: string; exitCode: number } {
  if (error instanceof GpuxError) {
    return {
      message: redactUrls(error.message),
      hint: redactUrls(error.hint ?? "Run again with --verbose for details."),
      exitCode: error.exitCode,
    };
  }
  return {
    message: redactUrls(`unexpected failure: ${errorMessage(error)}`),
    hint: "this is a bug in gpux; run again with --verbose and report the output.",
    exitCode: ExitCode.runtimeFailure,
  };
}

/** Print an error the way every command does: message, one line of advice, stack only with --verbose. */
export function reportError(error: unknown): number {
  const { message, hint, exitCode } = describeError(error);
  if (errorFormat.json) {
    const body = { error: { message, hint, exit_code: exitCode } };
    process.stdout.write(`${JSON.stringify(errorFormat.event ? { event: "error", ...body } : body)}\n`);
  } else {
    process.stderr.write(`error: ${message}\nhint: ${hint}\n`);
  }
  const stack = error instanceof GpuxError ? error.cause : error;
  // passwords inside URLs (HF_ENDPOINT, proxies) never reach the terminal, not even in a stack
  if (isVerbose() && stack instanceof Error) process.stderr.write(`${redactUrls(String(stack.stack))}\n`);
  return exitCode;
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
