import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./cli.js";
import { python } from "./python.js";

const script = join(repoRoot, "test", "fixtures", "make_keras_models.py");

/** The folders make_keras_models.py writes: one Keras model saved as .keras and as Keras .h5. */
export const kerasModelNames = ["keras-file", "keras-h5"] as const;

/** Where the tiny Keras models are, generated once per version of the script (test-output/keras-models-<hash>/). */
export function kerasModelsDir(): string {
  const hash = createHash("sha256").update(readFileSync(script)).digest("hex").slice(0, 16);
  const dir = join(repoRoot, "test-output", `keras-models-${hash}`);
  if (existsSync(dir)) return dir;
  mkdirSync(join(repoRoot, "test-output"), { recursive: true });
  const work = `${dir}.${process.pid}.tmp`;
  const result = spawnSync(python, [script, work], { encoding: "utf8" });
  if (result.status !== 0) {
    rmSync(work, { recursive: true, force: true });
    throw new Error(`make_keras_models.py failed: ${result.stderr || result.error}`);
  }
  if (existsSync(dir)) rmSync(work, { recursive: true, force: true });
  else renameSync(work, dir);
  return dir;
}
