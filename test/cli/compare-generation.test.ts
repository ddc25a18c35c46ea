/**
 * `gpux compare` on text-generation models: the tiny Qwen3 against itself, its q8 variant (ONNX Runtime's
 * quantize_dynamic) and the tiny Llama (same tokenizer): token figures from each model's `gpux run --prompt --json`.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { repoRoot, runCli } from "../helpers/cli.js";
import { generatedFixtureDir } from "../helpers/generated-fixture.js";
import { python, requirePython } from "../helpers/python.js";
import { tempDir } from "../helpers/temp-dir.js";
import { causalLmPythonModules, tinyCausalLmsDir } from "../helpers/tiny-causal-lms.js";

const pythonModules = [...causalLmPythonModules, "onnxruntime.quantization", "transformers"];
const maxTokens = 8;
const greedy = ["--temperature", "0", "--max-tokens", String(maxTokens)];
/** Few timed answers: these tests check the figures' sources, not the machine's speed. */
const quick = ["--runs", "3", "--warmup", "0", "--max-tokens", String(maxTokens)];

/** The prompts as a dataset, and as `gpux run --prompt` takes each (a lone user turn is what --prompt makes). */
const lines = [
  { line: { prompt: "The capital of France is" }, prompt: "The capital of France is" },
  { line: { text: "héllo 你好 🙂" }, prompt: "héllo 你好 🙂" },
  { line: { messages: [{ role: "user", content: "Say hi" }] }, prompt: "Say hi" },
];

/** A copy of the tiny Qwen3 with onnx/model_quantized.onnx (q8) beside its graph, and one whose graph is q8. */
function qwen3WithQ8(work: string): { repo: string; q8Only: string } {
  const repo = join(work, "qwen3");
  cpSync(join(tinyCausalLmsDir(), "qwen3"), repo, { recursive: true });
  const quantize = spawnSync(
    python,
    [
      "-c",
      "import sys; from onnxruntime.quantization import quantize_dynamic, QuantType; " +
        "quantize_dynamic(sys.argv[1], sys.argv[2], weight_type=QuantType.QInt8)",
      join(repo, "onnx", "model.onnx"),
      join(repo, "onnx", "model_quantized.onnx"),
    ],
    { encoding: "utf8" },
  );
  assert.equal(quantize.status, 0, quantize.stderr);
  const q8Only = join(work, "qwen3-q8-only");
  cpSync(repo, q8Only, { recursive: true });
  cpSync(join(repo, "onnx", "model_quantized.onnx"), join(q8Only, "onnx", "model.onnx"));
  return { repo, q8Only };
}

/** Each prompt's greedy tokens from `gpux run MODEL --prompt … --json`. */
async function runTokens(model: string): Promise<number[][]> {
  const tokens: number[][] = [];
  for (const { prompt } of lines) {
    const result = await runCli(["run", model, "--prompt", prompt, ...greedy, "--json"]);
    assert.equal(result.code, 0, result.stderr);
    tokens.push((JSON.parse(result.stdout) as { tokens: number[] }).tokens);
  }
  return tokens;
}

/** The figures compare must report, computed here as the docs define them. */
function expectedAgreement(base: number[][], other: number[][]) {
  const divergence = base.map((a, r) => {
    const b = other[r] as number[];
    let n = 0;
    while (n < a.length && n < b.length && a[n] === b[n]) n++;
    return { n, longer: Math.max(a.length, b.length) };
  });
  const diverged = divergence.filter((d) => d.n < d.longer).map((d) => d.n);
  return {
    exact_match: divergence.filter((d) => d.n === d.longer).length / base.length,
    token_agreement: divergence.reduce((s, d) => s + (d.longer === 0 ? 1 : d.n / d.longer), 0) / base.length,
    first_divergence: divergence.map((d) => (d.n < d.longer ? d.n : null)),
    first_divergence_min: diverged.length > 0 ? Math.min(...diverged) : null,
  };
}

interface GenerationReport {
  kind: string;
  requests: number;
  max_tokens: number;
  models: Array<{
    model: string;
    variant: string | null;
    size_bytes: number;
    time_to_first_token_ms: { p50: number };
    time_to_first_token_samples_ms: number[];
    decode_tokens_per_second: { p50: number };
    peak_rss_bytes: number;
    accuracy: number | null;
    agreement: null | (ReturnType<typeof expectedAgreement> & { rows: number });
  }>;
}

test("generation models: the tiny Qwen3 against itself, its q8 variant and the tiny Llama; token figures from `gpux run --prompt --json`", async (t) => {
  if (!requirePython(t, pythonModules)) return;
  const work = tempDir();
  const { repo, q8Only } = qwen3WithQ8(work);
  const llama = join(work, "llama");
  cpSync(join(tinyCausalLmsDir(), "llama"), llama, { recursive: true });
  const dataset = join(work, "prompts.jsonl");
  writeFileSync(dataset, `${lines.map((l) => JSON.stringify(l.line)).join("\n")}\n`);
  const html = join(work, "report.html");
  const models = [repo, "--variant", "fp32", repo, repo, "--variant", "q8", llama];
  const compared = await runCli([
    "compare",
    ...models,
    "--file",
    dataset,
    "--html",
    html,
    ...quick,
    "--json",
  ]);
  assert.equal(compared.code, 0, compared.stderr);
  const report = JSON.parse(compared.stdout) as GenerationReport;
  // the terminal table is the same table: one quick look that it prints
  const text = await runCli(["compare", repo, repo, "--text", "hi", ...quick, "--runs", "1"]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^exact match +baseline +100\.0 %$/m);

  // each model's prompts one after the other, the three models side by side
  const [fp32, q8, other] = await Promise.all([runTokens(repo), runTokens(q8Only), runTokens(llama)]);
  assert.equal(report.kind, "generation");
  assert.equal(report.requests, 3);
  assert.equal(report.max_tokens, maxTokens);
  assert.deepEqual(
    report.models.map((m) => [m.model, m.variant]),
    [
      [repo, "fp32"],
      [repo, null],
      [repo, "q8"],
      [llama, null],
    ],
  );
  const [base, self, quantized, different] = report.models as [
    GenerationReport["models"][0],
    GenerationReport["models"][0],
    GenerationReport["models"][0],
    GenerationReport["models"][0],
  ];
  assert.equal(base.agreement, null);
  assert.deepEqual(self.agreement, { rows: 3, ...expectedAgreement(fp32, fp32) });
  assert.equal(self.agreement?.exact_match, 1);
  assert.equal(self.agreement?.token_agreement, 1);
  assert.deepEqual(quantized.agreement, { rows: 3, ...expectedAgreement(fp32, q8) });
  assert.deepEqual(different.agreement, { rows: 3, ...expectedAgreement(fp32, other) });
  // another model's random weights give other tokens from the first one on
  assert.ok((different.agreement?.token_agreement as number) < 0.5, JSON.stringify(different.agreement));
  assert.ok(
    quantized.size_bytes < base.size_bytes * 0.6,
    `q8 ${quantized.size_bytes} B vs ${base.size_bytes} B`,
  );
  for (const model of report.models) {
    assert.equal(model.time_to_first_token_samples_ms.length, 3);
    assert.ok(model.time_to_first_token_ms.p50 > 0 && model.decode_tokens_per_second.p50 > 0);
    assert.ok(model.peak_rss_bytes > 0);
    assert.equal(model.accuracy, null);
  }

  // the report's table (the terminal's, drawn into the HTML page) shows the JSON's agreement
  const page = readFileSync(html, "utf8");
  const row = (label: string) => {
    const found = [...page.matchAll(/<tr>(.*?)<\/tr>/g)]
      .map((tr) => [...(tr[1] as string).matchAll(/<td>(.*?)<\/td>/g)].map((td) => td[1]))
      .find((cells) => cells[0] === label);
    assert.ok(found, `no '${label}' row in:\n${page}`);
    return found.slice(1);
  };
  const others = [self, quantized, different];
  const pct = (share = -1) => `${(share * 100).toFixed(1)} %`;
  const divergence = (d: number | null | undefined) => (d === null ? "none" : `after ${d} tokens`);
  assert.deepEqual(row("exact match"), ["baseline", ...others.map((m) => pct(m.agreement?.exact_match))]);
  assert.deepEqual(row("token agreement"), [
    "baseline",
    ...others.map((m) => pct(m.agreement?.token_agreement)),
  ]);
  assert.deepEqual(row("first divergence"), [
    "baseline",
    ...others.map((m) => divergence(m.agreement?.first_divergence_min)),
  ]);
  assert.match(row("time to first token p50")[0] as string, / ms$/);
  assert.match(page, /<h2>Time to first token<\/h2>/);
  assert.equal(page.match(/<circle class="sample"/g)?.length, 3 * report.models.length);
});

test("a generation model beside an encoder is refused; a prompt a generation model cannot take names its line", async (t) => {
  if (!requirePython(t, pythonModules)) return;
  const work = tempDir();
  const qwen3 = join(work, "qwen3");
  cpSync(join(tinyCausalLmsDir(), "qwen3"), qwen3, { recursive: true });
  const dataset = join(work, "bad.jsonl");
  writeFileSync(dataset, '{"prompt": "hi"}\n{"input_ids": [[1, 2]]}\n');
  const classifier = join(
    generatedFixtureDir("compare-models", join(repoRoot, "test", "fixtures", "make_compare_models.py")),
    "classifier-a",
  );
  const mixed = await runCli(["compare", qwen3, classifier, "--text", "w1 w2", ...quick]);
  assert.equal(mixed.code, 1, mixed.stderr);
  assert.match(
    mixed.stderr,
    /qwen3' is a text-generation model and '.*classifier-a' is a text-classification model/,
  );
  const bad = await runCli(["compare", qwen3, qwen3, "--file", dataset, ...quick]);
  assert.equal(bad.code, 1, bad.stderr);
  assert.match(bad.stderr, /qwen3' failed on line 2: A request for a generation model needs "prompt"/);
  assert.match(bad.stderr, /^hint: /m);
});
