import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import { repoRoot } from "./cli.js";
import { python } from "./python.js";

/**
 * The folder a fixture script writes (`python SCRIPT DIR`), made once per version of the script and of the
 * files it depends on (test-output/<name>-<hash>/), so later runs and other test files reuse it.
 */
export function generatedFixtureDir(name: string, script: string, dependsOn: readonly string[] = []): string {
  const hash = createHash("sha256");
  for (const file of [script, ...dependsOn]) hash.update(readFileSync(file));
  const dir = join(repoRoot, "test-output", `${name}-${hash.digest("hex").slice(0, 16)}`);
  if (existsSync(dir)) return dir;
  mkdirSync(join(repoRoot, "test-output"), { recursive: true });
  const work = `${dir}.${process.pid}.tmp`;
  const result = spawnSync(python, [script, work], { encoding: "utf8" });
  if (result.status !== 0) {
    rmSync(work, { recursive: true, force: true });
    throw new Error(`${basename(script)} failed: ${result.stderr || result.error}`);
  }
  // another test file may have finished first: theirs is identical, keep it
  if (existsSync(dir)) rmSync(work, { recursive: true, force: true });
  else renameSync(work, dir);
  return dir;
}
