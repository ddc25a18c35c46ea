import { envSettings } from "./settings.js";

/** Diagnostics go to stderr so stdout stays clean for results and --json. */
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
    process.stderr.write(`warning: ${message}\n`);
  },
  /** Always shown: what happened besides the result (a file written). */
  info(message: string): void {
    process.stderr.write(`${message}\n`);
  },
  /** Shown with --verbose only. */
  debug(message: string): void {
    if (verbose) process.stderr.write(`debug: ${message}\n`);
  },
};
