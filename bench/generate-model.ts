/**
 * The generation benches' model and prompts (bench/generate.ts, bench/serve-generate.ts): the ~130 M
 * Qwen3-shaped model bench/make_generate_model.py exports (made once per version of the script, under
 * test-output/), with a gpux.yml, and prompts of an exact token count cut from the README's prose.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { TextGenerator } from "../src/engine/generation/generator.js";
import { repoRoot } from "../test/helpers/cli.js";
import { python } from "../test/helpers/python.js";

/** The model's folder (GPUX_BENCH_GENERATE_MODEL=DIR reuses one), exported first if it is not there. */
export function benchGenerateModel(): string {
  const script = join(repoRoot, "bench", "make_generate_model.py");
  const hash = createHash("sha256").update(readFileSync(script)).digest("hex").slice(0, 16);
  // absolute: transformers.js reads a relative folder from its own model root, not from here
  const dir = resolve(
    process.env.GPUX_BENCH_GENERATE_MODEL ?? join(repoRoot, "test-output", `generate-model-${hash}`),
  );
  if (!existsSync(join(dir, "onnx", "model.onnx"))) {
    const result = spawnSync(python, [script, dir], {
      encoding: "utf8",
      stdio: ["ignore", "inherit", "pipe"],
    });
    if (result.status !== 0) throw new Error(result.stderr.slice(-2000));
  }
  writeFileSync(
    join(dir, "gpux.yml"),
    "name: bench-generate\ntask: text-generation\nmodel:\n  source: onnx/model.onnx\npreprocessing:\n  tokenizer: tokenizer.json\n",
  );
  return dir;
}

/**
 * `count` prompt texts of exactly `tokens` tokens each (README prose from different starting words), so
 * every contender reads the same ids.
 */
export function promptsOfLength(
  generator: TextGenerator,
  tokens: number,
  count = 1,
): Array<{ text: string; ids: number[] }> {
  const english = readFileSync(join(repoRoot, "README.md"), "utf8").replace(/\s+/g, " ");
  const prompts: Array<{ text: string; ids: number[] }> = [];
  let start = 0;
  while (prompts.length < count) {
    const from = english.slice(start);
    for (let end = tokens; end < from.length; end++) {
      const ids = generator.encode({ prompt: from.slice(0, end) });
      if (ids.length === tokens) {
        prompts.push({ text: from.slice(0, end), ids });
        break;
      }
      if (ids.length > tokens) break;
    }
    start = english.indexOf(" ", start + 200) + 1;
    if (start === 0 && prompts.length < count) throw new Error("README.md is too short for the prompts");
  }
  return prompts;
}
