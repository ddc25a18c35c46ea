import { spawnSync } from "node:child_process";
import type { TestContext } from "node:test";

/** The Python the conversion bridge and the reference scripts use (GPUX_PYTHON, else python3). */
export const python = process.env.GPUX_PYTHON ?? "python3";

const cache = new Map<string, string | undefined>();

/** Undefined when every module imports; otherwise the reason it does not. */
export function missingPythonModules(modules: readonly string[]): string | undefined {
  const key = modules.join(",");
  if (!cache.has(key)) {
    const script = modules.map((m) => `import ${m}`).join("; ");
    const result = spawnSync(python, ["-c", script], { encoding: "utf8" });
    cache.set(
      key,
      result.status === 0
        ? undefined
        : `${python} cannot import ${key}: ${(result.stderr || String(result.error)).trim().split("\n").pop()}`,
    );
  }
  return cache.get(key);
}

/**
 * Skip a test when Python or its packages are missing (a bare `npm test`), but fail it in CI, where
 * .ci/run installs them and sets GPUX_REQUIRE_PYTHON_TESTS=1: a skipped reference check would prove nothing.
 */
export function requirePython(t: TestContext, modules: readonly string[]): boolean {
  const missing = missingPythonModules(modules);
  if (!missing) return true;
  if (process.env.GPUX_REQUIRE_PYTHON_TESTS === "1") throw new Error(missing);
  t.skip(`${missing} (pip install -r python/requirements-test.txt)`);
  return false;
}
