/**
 * compareModels from the built package (dist/index.js, as `import("gpux")` loads it, so the model processes
 * start from the package's own files): the tiny Qwen3 against itself and against the tiny Llama.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { repoRoot, runCli } from "../helpers/cli.js";
import { requirePython } from "../helpers/python.js";
import { tempDir } from "../helpers/temp-dir.js";
import { causalLmPythonModules, tinyCausalLmsDir } from "../helpers/tiny-causal-lms.js";

type Gpux = typeof import("../../src/index.js");

test("compareModels: a generation model against itself agrees on every token, against another it does not", async (t) => {
  if (!requirePython(t, [...causalLmPythonModules])) return;
  const gpux = (await import(pathToFileURL(join(repoRoot, "dist", "index.js")).href)) as Gpux;
  const [qwen3, llama] = [join(tinyCausalLmsDir(), "qwen3"), join(tinyCausalLmsDir(), "llama")];
  const dataset = join(tempDir(), "prompts.jsonl");
  writeFileSync(dataset, '{"prompt": "The capital of France is"}\n');
  const requests = await gpux.readCompareDataset(dataset);
  const seen: string[] = [];
  const report = await gpux.compareModels([{ ref: qwen3 }, { ref: qwen3 }, { ref: llama }], {
    requests,
    runs: 2,
    warmup: 0,
    maxTokens: 6,
    onModel: (name) => seen.push(name),
  });
  assert.equal(report.kind, "generation");
  if (report.kind !== "generation") return;
  assert.deepEqual(seen, [qwen3, qwen3, llama]);
  assert.equal(report.max_tokens, 6);
  const [, self, other] = report.models;
  assert.equal(self?.agreement?.exact_match, 1);
  assert.equal(self?.agreement?.first_divergence_min, null);
  const tokens = async (model: string) => {
    const run = await runCli([
      "run",
      model,
      "--prompt",
      "The capital of France is",
      "--temperature",
      "0",
      "--max-tokens",
      "6",
      "--json",
    ]);
    assert.equal(run.code, 0, run.stderr);
    return (JSON.parse(run.stdout) as { tokens: number[] }).tokens;
  };
  const [a, b] = [await tokens(qwen3), await tokens(llama)];
  let same = 0;
  while (same < a.length && a[same] === b[same]) same++;
  assert.equal(other?.agreement?.exact_match, 0);
  assert.equal(other?.agreement?.first_divergence_min, same);
  assert.equal(other?.agreement?.token_agreement, same / Math.max(a.length, b.length));
  assert.equal(other?.time_to_first_token_samples_ms.length, 2);
});
