import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { repoRoot, runCli } from "../helpers/cli.js";
import { generatedFixtureDir } from "../helpers/generated-fixture.js";
import { requirePython } from "../helpers/python.js";
import { tempDir } from "../helpers/temp-dir.js";

const script = join(repoRoot, "test", "fixtures", "make_compare_models.py");
const pythonModules = ["torch", "transformers", "onnxruntime.quantization"];
/** Few timed runs: these tests check the figures' sources, not the machine's speed. */
const quick = ["--runs", "12", "--warmup", "2"];

/** Classifiers a (fp32 and q8) and b, an embedder (fp32 and q8), eval.jsonl: built once per script version. */
function fixtures(): string {
  return generatedFixtureDir("compare-models", script);
}

interface Line {
  text: string;
  label: string;
}

function datasetLines(dir: string, count: number): Line[] {
  const lines = readFileSync(join(dir, "eval.jsonl"), "utf8").trim().split("\n");
  return lines.slice(0, count).map((line) => JSON.parse(line) as Line);
}

/**
 * A folder holding only the q8 graph of `repo` (as onnx/model.onnx) beside its config and tokenizer: `gpux run`
 * answers with the quantized model through the same generated gpux.yml, by a route compare does not take.
 */
function q8Only(repo: string, work: string): string {
  const folder = join(work, "q8-only");
  mkdirSync(join(folder, "onnx"), { recursive: true });
  for (const file of ["config.json", "tokenizer.json", "tokenizer_config.json"]) {
    copyFileSync(join(repo, file), join(folder, file));
  }
  copyFileSync(join(repo, "onnx", "model_quantized.onnx"), join(folder, "onnx", "model.onnx"));
  return folder;
}

async function runJson(args: string[]): Promise<unknown> {
  const result = await runCli([...args, "--json"]);
  assert.equal(result.code, 0, result.stderr + result.stdout);
  return JSON.parse(result.stdout);
}

/** `gpux run MODEL --json` on each request, one process per request (compare answers requests one by one). */
async function runEach(model: string, requests: readonly object[]): Promise<unknown[]> {
  const answers: unknown[] = [];
  for (const request of requests) {
    answers.push(
      ((await runJson(["run", model, "--input", JSON.stringify(request)])) as { result: unknown }).result,
    );
  }
  return answers;
}

type Scores = Array<{ label: string; score: number }>;

/** What compare must report for `other` against `base`, computed from their `gpux run` answers. */
function expectedClassification(base: Scores[], other: Scores[], labels: readonly string[]) {
  const diffs: number[] = [];
  base.forEach((scores, r) => {
    for (const { label, score } of scores) {
      diffs.push(Math.abs(score - ((other[r] as Scores).find((s) => s.label === label)?.score as number)));
    }
  });
  const top = (scores: Scores) => scores[0]?.label;
  return {
    top1: base.filter((scores, r) => top(scores) === top(other[r] as Scores)).length / base.length,
    accuracy: other.filter((scores, r) => top(scores) === labels[r]).length / other.length,
    max: Math.max(...diffs),
    mean: diffs.reduce((s, d) => s + d, 0) / diffs.length,
  };
}

interface Report {
  kind: string;
  requests: number;
  labelled_rows: number;
  models: Array<{
    model: string;
    variant: string | null;
    size_bytes: number;
    latency_samples_ms: number[];
    latency_ms: { p50: number; p99: number };
    throughput: { best_per_second: number; best_batch_size: number };
    peak_rss_bytes: number;
    model_rss_bytes: number;
    load_ms: number;
    accuracy: number | null;
    agreement: null | {
      rows: number;
      top1_agreement?: number;
      max_abs_diff: number | null;
      mean_abs_diff: number | null;
      cosine_mean?: number;
      cosine_min?: number;
    };
  }>;
}

const close = (actual: number | null | undefined, expected: number, what: string) =>
  assert.ok(
    typeof actual === "number" && Math.abs(actual - expected) <= 1e-9 + 1e-6 * Math.abs(expected),
    `${what}: ${actual} ≠ ${expected}`,
  );

test("a classifier against its own q8 variant and another classifier: figures from each model's `gpux run` answers, table and JSON agree, HTML chart in Chromium", async (t) => {
  if (!requirePython(t, pythonModules)) return;
  const dir = fixtures();
  const work = tempDir();
  const lines = datasetLines(dir, 8);
  const dataset = join(work, "eval.jsonl");
  writeFileSync(dataset, `${lines.map((line) => JSON.stringify(line)).join("\n")}\n`);
  const a = join(dir, "classifier-a");
  const b = join(dir, "classifier-b");
  const html = join(work, "report.html");
  const models = [a, "--variant", "fp32", a, "--variant", "q8", b];
  const report = (await runJson([
    "compare",
    ...models,
    "--file",
    dataset,
    "--html",
    html,
    ...quick,
  ])) as Report;

  const requests = lines.map((line) => ({ text: line.text, top_k: 2 }));
  const labels = lines.map((line) => line.label);
  // each model's requests one after the other, the three models side by side (two cores)
  const [fp32, q8Answers, bAnswers] = (await Promise.all([
    runEach(a, requests),
    runEach(q8Only(a, work), requests),
    runEach(b, requests),
  ])) as [Scores[], Scores[], Scores[]];
  const answers = { fp32, q8: q8Answers, b: bAnswers };
  assert.equal(report.kind, "classification");
  assert.equal(report.requests, 8);
  assert.equal(report.labelled_rows, 8);
  const [base, q8, other] = report.models as [Report["models"][0], Report["models"][0], Report["models"][0]];
  assert.deepEqual(
    report.models.map((m) => [m.model, m.variant]),
    [
      [a, "fp32"],
      [a, "q8"],
      [b, null],
    ],
  );
  assert.equal(base.agreement, null);
  close(
    base.accuracy,
    expectedClassification(answers.fp32, answers.fp32, labels).accuracy,
    "baseline accuracy",
  );
  for (const [name, model, own] of [
    ["q8", q8, answers.q8],
    ["b", other, answers.b],
  ] as const) {
    const expected = expectedClassification(answers.fp32, own, labels);
    assert.equal(model.agreement?.rows, 8);
    close(model.agreement?.top1_agreement, expected.top1, `${name} top-1 agreement`);
    close(model.accuracy, expected.accuracy, `${name} accuracy`);
    close(model.agreement?.max_abs_diff, expected.max, `${name} max abs diff`);
    close(model.agreement?.mean_abs_diff, expected.mean, `${name} mean abs diff`);
  }
  // the figures say something: quantization moved the scores a little, another model moved them a lot
  assert.ok((q8.agreement?.max_abs_diff as number) > 0);
  assert.ok((other.agreement?.mean_abs_diff as number) > (q8.agreement?.mean_abs_diff as number));
  assert.ok(q8.size_bytes < base.size_bytes * 0.6, `q8 ${q8.size_bytes} B vs fp32 ${base.size_bytes} B`);
  for (const model of report.models) {
    assert.equal(model.latency_samples_ms.length, 12);
    assert.ok(model.load_ms > 0 && model.latency_ms.p50 > 0 && model.throughput.best_per_second > 0);
    assert.ok(model.peak_rss_bytes > model.model_rss_bytes && model.model_rss_bytes > 0);
  }

  // the table shows the JSON's figures (the timings differ from run to run; sizes and agreement do not)
  const text = await runCli(["compare", ...models, "--file", dataset, ...quick]);
  assert.equal(text.code, 0, text.stderr);
  const row = (label: string) => {
    const found = text.stdout.split("\n").find((line) => line.startsWith(label));
    assert.ok(found, `no '${label}' row in:\n${text.stdout}`);
    return found;
  };
  const pct = (share: number) => `${(share * 100).toFixed(1)} %`;
  assert.match(
    row("top-1 agreement"),
    new RegExp(
      `baseline +${pct(q8.agreement?.top1_agreement ?? -1)} +${pct(other.agreement?.top1_agreement ?? -1)}`,
    ),
  );
  assert.match(
    row("accuracy"),
    new RegExp(`${pct(base.accuracy ?? -1)} +${pct(q8.accuracy ?? -1)} +${pct(other.accuracy ?? -1)}`),
  );
  assert.ok(row("max |score diff|").includes(Number(q8.agreement?.max_abs_diff).toPrecision(3)));
  assert.ok(row("size on disk").includes(`(×${(q8.size_bytes / base.size_bytes).toFixed(2)})`));

  await checkReportPage(t, html, report);
});

/** The HTML report in headless Chromium: its table, and the chart's SVG elements (a dot per timed run). */
async function checkReportPage(
  t: { skip(message: string): void },
  html: string,
  report: Report,
): Promise<void> {
  const executablePath = process.env.GPUX_CHROMIUM ?? "/usr/bin/chromium";
  const { existsSync } = await import("node:fs");
  if (!existsSync(executablePath)) {
    if (process.env.CI) throw new Error(`no Chromium at ${executablePath}`);
    t.skip(`no Chromium at ${executablePath} (apt-get install chromium)`);
    return;
  }
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
    headless: true,
  });
  try {
    const page = await browser.newPage({ viewport: { width: 900, height: 900 } });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(`file://${html}`);
    const groups = await page.$$eval("svg#latency-chart g.model-latency", (gs) =>
      gs.map((g) => ({
        dots: g.querySelectorAll("circle.sample").length,
        boxes: g.querySelectorAll("rect.box").length,
        medians: g.querySelectorAll("line.median").length,
        width: g.getBoundingClientRect().width,
      })),
    );
    assert.equal(groups.length, report.models.length);
    for (const group of groups) {
      assert.deepEqual([group.dots, group.boxes, group.medians], [12, 1, 1]);
      assert.ok(group.width > 50, "the group is drawn, not collapsed");
    }
    const headers = await page.$$eval("#compare-table th", (ths) => ths.map((th) => th.textContent));
    assert.equal(headers.length, report.models.length + 1);
    assert.deepEqual(errors, []);
    const out = join(repoRoot, "test-output");
    mkdirSync(out, { recursive: true });
    await page.screenshot({ path: join(out, "compare-report.png"), fullPage: true });
  } finally {
    await browser.close();
  }
}

test("an embedder against its q8 variant: cosine and value differences from `gpux run` embeddings", async (t) => {
  if (!requirePython(t, pythonModules)) return;
  const dir = fixtures();
  const work = tempDir();
  const lines = datasetLines(dir, 4);
  const dataset = join(work, "texts.jsonl");
  writeFileSync(dataset, lines.map((line) => JSON.stringify({ text: line.text })).join("\n"));
  const embedder = join(dir, "embedder");
  const report = (await runJson([
    "compare",
    embedder,
    embedder,
    "--variant",
    "q8",
    "--file",
    dataset,
    ...quick,
  ])) as Report;
  const requests = lines.map((line) => ({ text: line.text }));
  const own = async (model: string) =>
    ((await runEach(model, requests)) as Array<{ embedding: number[] }>).map((answer) => answer.embedding);
  const [fp32, q8] = [await own(embedder), await own(q8Only(embedder, work))];
  const cosines = fp32.map((a, r) => {
    const b = q8[r] as number[];
    const dot = a.reduce((s, v, i) => s + v * (b[i] as number), 0);
    const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    return dot / (norm(a) * norm(b));
  });
  const diffs = fp32.flatMap((a, r) => a.map((v, i) => Math.abs(v - ((q8[r] as number[])[i] as number))));
  assert.equal(report.kind, "embedding");
  assert.equal(report.labelled_rows, 0);
  const agreement = report.models[1]?.agreement;
  close(agreement?.cosine_mean, cosines.reduce((s, c) => s + c, 0) / cosines.length, "cosine mean");
  close(agreement?.cosine_min, Math.min(...cosines), "cosine min");
  close(agreement?.max_abs_diff, Math.max(...diffs), "max abs diff");
  close(agreement?.mean_abs_diff, diffs.reduce((s, d) => s + d, 0) / diffs.length, "mean abs diff");
  assert.ok((agreement?.cosine_min as number) < 1 && (agreement?.cosine_min as number) > 0.9);
  assert.equal(report.models[0]?.accuracy, null);
});

test("two bare .onnx graphs with the same inputs and outputs: raw output differences from `gpux run` answers", async (t) => {
  if (!requirePython(t, pythonModules)) return;
  const dir = fixtures();
  const fp32 = join(dir, "classifier-a", "onnx", "model.onnx");
  const q8 = join(dir, "classifier-a", "onnx", "model_quantized.onnx");
  const request = {
    input_ids: [[2, 10, 11, 12, 3]],
    attention_mask: [[1, 1, 1, 1, 1]],
    token_type_ids: [[0, 0, 0, 0, 0]],
  };
  const report = (await runJson([
    "compare",
    fp32,
    q8,
    "--input",
    JSON.stringify(request),
    ...quick,
  ])) as Report;
  const [a, b] = (await Promise.all([runEach(fp32, [request]), runEach(q8, [request])])).map((answers) =>
    (answers[0] as { logits: number[][] }).logits.flat(),
  ) as [number[], number[]];
  const diffs = a.map((v, i) => Math.abs(v - (b[i] as number)));
  assert.equal(report.kind, "raw");
  const keys = JSON.stringify(report).match(/"[^"]*":/g) ?? [];
  assert.deepEqual(
    keys.filter((key) => !/^"[a-z0-9_]+":$/.test(key)),
    [],
    "--json keys are snake_case",
  );
  close(report.models[1]?.agreement?.max_abs_diff, Math.max(...diffs), "max abs diff");
  close(
    report.models[1]?.agreement?.mean_abs_diff,
    diffs.reduce((s, d) => s + d, 0) / diffs.length,
    "mean abs diff",
  );
  assert.equal(report.models[1]?.agreement?.top1_agreement, undefined);
});

test("models that cannot be compared, and bad datasets, are refused with what to fix", async (t) => {
  if (!requirePython(t, pythonModules)) return;
  const dir = fixtures();
  const work = tempDir();
  const a = join(dir, "classifier-a");
  const dataset = (name: string, text: string) => {
    writeFileSync(join(work, name), text);
    return join(work, name);
  };
  const good = dataset("good.jsonl", '{"text": "w1 w2", "label": "POSITIVE"}\n');
  const cases: Array<{ args: string[]; code: number; message: RegExp }> = [
    {
      args: [a, join(dir, "embedder"), "--file", good],
      code: 1,
      message: /classifier-a' is a text-classification model and '.*embedder' is a feature-extraction model/,
    },
    {
      args: [join(a, "onnx", "model.onnx"), join(dir, "embedder", "onnx", "model.onnx"), "--text", "w1"],
      code: 1,
      message:
        /model\.onnx' and '.*embedder\/onnx\/model\.onnx' have different graph outputs \(logits:float32 vs last_hidden_state:float32\)/,
    },
    {
      args: [a, a, "--file", dataset("empty.jsonl", "\n\n")],
      code: 1,
      message: /empty\.jsonl' holds no requests/,
    },
    {
      args: [a, a, "--file", dataset("bad.jsonl", '{"text": "w1"}\n\n{"text": "w2"\n')],
      code: 1,
      message: /bad\.jsonl:3 is not valid JSON/,
    },
    {
      args: [a, a, "--file", dataset("label.jsonl", '{"text": "w1"}\n{"text": "w2", "label": 3}\n')],
      code: 1,
      message: /label\.jsonl:2: 'label' must be a string/,
    },
    {
      args: [a, a, "--file", dataset("field.jsonl", '{"text": "w1"}\n{"txt": "w2"}\n')],
      code: 1,
      message: /classifier-a' failed on line 2: Unknown field 'txt'/,
    },
    { args: ["--variant", "q8", a, a, "--text", "w1"], code: 1, message: /--variant comes before any model/ },
    {
      args: [a, "--variant", "q4", a, "--text", "w1"],
      code: 2,
      message: /has no ONNX file for variant 'q4'/,
    },
    { args: [a, "--text", "w1"], code: 1, message: /needs at least two models/ },
    { args: [a, a], code: 1, message: /No requests given/ },
    {
      args: [a, a, "--file", dataset("count.jsonl", '{"text": "w1", "label": ["POSITIVE", "NEGATIVE"]}\n')],
      code: 1,
      message: /Line 1: 2 label\(s\) for 1 answer row\(s\)/,
    },
    {
      args: [a, "--variant", "q8", "--variant", "fp16", a, "--text", "w1"],
      code: 1,
      message: /has two --variant flags/,
    },
  ];
  for (const { args, code, message } of cases) {
    const result = await runCli(["compare", ...args, ...quick]);
    assert.equal(result.code, code, `${args.join(" ")}\n${result.stderr}`);
    assert.match(result.stderr, message, args.join(" "));
    assert.match(result.stderr, /^hint: /m);
    assert.equal(result.stdout, "");
  }
});
