import { RuntimeFailure } from "../util/errors.js";

/**
 * True for a repo file path that stays inside the folder it is joined to: relative, forward slashes, no `..`,
 * `.` or empty segments, no backslash, no drive letter, no control characters.
 */
export function isSafeRepoPath(path: string): boolean {
  return (
    path.length > 0 &&
    path.length <= 1024 &&
    !path.startsWith("/") &&
    !/^[A-Za-z]:/.test(path) &&
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
    !/[\\\u0000-\u001f]/.test(path) &&
    path.split("/").every((segment) => segment !== "" && segment !== "." && segment !== "..")
  );
}

/** Throw a clear error for a path a registry answered that would escape the cache. */
export function assertSafeRepoPath(path: string, repoId: string): void {
  if (!isSafeRepoPath(path)) {
    throw new RuntimeFailure(
      `The registry listed an unsafe file name ${JSON.stringify(path)} in '${repoId}'; gpux refuses to pull it.`,
      { hint: "The repo or the mirror in HF_ENDPOINT is broken or hostile; nothing was written." },
    );
  }
}

export const isHex = (value: unknown, length: number): value is string =>
  typeof value === "string" && value.length === length && /^[0-9a-f]+$/.test(value);
