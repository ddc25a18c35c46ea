import { redactUrls } from "./redact-url.js";
import { envSettings } from "./settings.js";

/** Diagnostics go to stderr so stdout stays clean for results and --json; passwords in URLs never show. */
let verbose = envSettings.verbose();

export function setVerbose(on: boolean): void {
  verbose = on;
}

export function isVerbose(): boolean {
  return verbose;
}

export const log = {
  /** Always shown: things the user should know (a fallback, a warning). */
  warn(message: string): void {
    process.stderr.write(redactUrls(`warning: ${message}\n`));
  },
  /** Always shown: what happened besides the result (a file written). */
  info(message: string): void {
    process.stderr.write(redactUrls(`${message}\n`));
  },
  /** Shown with --verbose only. */
  debug(message: string): void {
    if (verbose) process.stderr.write(redactUrls(`debug: ${message}\n`));
  },
};
