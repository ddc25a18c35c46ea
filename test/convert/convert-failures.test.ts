import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runCli } from "../helpers/cli.js";
import { python, requirePython } from "../helpers/python.js";
import { tempDir } from "../helpers/temp-dir.js";
import { tinyTransformersDir } from "../helpers/tiny-transformers.js";

const torchModules = ["torch", "transformers", "onnx", "onnxruntime"];

/** A writable copy of a tiny repo, and the folder the conversion would write to. */
function copyOf(name: string): { repo: string; out: string } {
  const root = tempDir();
  const repo = join(root, name);
  cpSync(join(tinyTransformersDir(), name), repo, { recursive: true });
  return { repo, out: join(root, "out") };
}

function assertNothingWritten(out: string): void {
  assert.ok(!existsSync(out), `left behind: ${existsSync(out) && readdirSync(out).join(", ")}`);
}

test("a truncated safetensors file is a clear error, exit 1, nothing written", async (t) => {
  if (!requirePython(t, torchModules)) return;
  const { repo, out } = copyOf("distilbert-sst2");
  const weights = join(repo, "model.safetensors");
  truncateSync(weights, Math.floor(readFileSync(weights).length / 2));
  const result = await runCli(["convert", repo, "--output", out]);
  assert.equal(result.code, 1, result.stderr);
  assert.match(result.stderr, /error: .*(safetensors|checkpoint)/i);
  assert.match(result.stderr, /hint: /);
  assertNothingWritten(out);
});

test("weights without config.json: the error names config.json", async () => {
  const { repo, out } = copyOf("bert-sst2");
  rmSync(join(repo, "config.json"));
  const result = await runCli(["convert", repo, "--output", out]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /no config\.json/);
  assertNothingWritten(out);
});

test("an unknown architecture asks for --task instead of guessing from the name", async () => {
  const { repo, out } = copyOf("bert-sst2");
  const configPath = join(repo, "config.json");
  const config = JSON.parse(readFileSync(configPath, "utf8")) as Record<string, unknown>;
  writeFileSync(configPath, JSON.stringify({ ...config, architectures: ["BertForSomethingNew"] }));
  const result = await runCli(["convert", repo, "--output", out]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /architecture BertForSomethingNew/);
  assert.match(result.stderr, /hint: Pass --task/);
  assertNothingWritten(out);
});

test("Python absent (GPUX_PYTHON=/nonexistent): a clear error, never exit 0", async () => {
  const { repo, out } = copyOf("distilbert-sst2");
  const result = await runCli(["convert", repo, "--output", out], { env: { GPUX_PYTHON: "/nonexistent" } });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /Python was not found: '\/nonexistent'/);
  assertNothingWritten(out);
});

test("a Python without torch: the error names the packages and the pip command", async (t) => {
  const venv = join(tempDir(), "venv");
  const made = spawnSync(python, ["-m", "venv", "--without-pip", venv]);
  if (made.status !== 0) return t.skip("python -m venv is not available");
  const venvPython = join(venv, "bin", "python");
  const { repo, out } = copyOf("distilbert-sst2");
  const result = await runCli(["convert", repo, "--output", out], { env: { GPUX_PYTHON: venvPython } });
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /needs Python packages that are not installed: torch, transformers, onnx, onnxruntime/,
  );
  assert.ok(
    result.stderr.includes(
      `hint: Install with: ${venvPython} -m pip install torch transformers onnx onnxruntime`,
    ),
  );
  assertNothingWritten(out);

  const doctor = await runCli(["doctor", "--json"], { env: { GPUX_PYTHON: venvPython } });
  assert.equal(doctor.code, 0);
  const health = JSON.parse(doctor.stdout) as {
    converters: Array<{ name: string; usable: boolean; fix?: string }>;
  };
  const pytorch = health.converters.find((c) => c.name === "pytorch");
  assert.equal(pytorch?.usable, false);
  assert.equal(pytorch?.fix, `${venvPython} -m pip install torch transformers onnx onnxruntime`);
});

test("TensorFlow without tf2onnx (what this machine has): the error names it and the pip command", async (t) => {
  if (!requirePython(t, ["onnx"])) return;
  const root = tempDir();
  const repo = join(root, "saved-model");
  mkdirSync(repo);
  // a SavedModel needs TensorFlow and tf2onnx (Keras files convert without them: keras-conversion.test.ts)
  writeFileSync(join(repo, "saved_model.pb"), "not read: the bridge checks its packages first");
  const result = await runCli(["convert", repo, "--output", join(root, "out")]);
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /The tensorflow converter needs Python packages that are not installed: .*tf2onnx/,
  );
  assert.match(result.stderr, /hint: Install with: \S+ -m pip install .*tf2onnx/);
});

test("a base model exported as a classifier is refused: its head would be random weights", async (t) => {
  if (!requirePython(t, torchModules)) return;
  const { repo, out } = copyOf("bert-sentence-embedding");
  const result = await runCli(["convert", repo, "--output", out, "--task", "text-classification"]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /no weights for classifier/);
  assertNothingWritten(out);
});

test("a difference above --atol fails with exit 3 and keeps nothing", async (t) => {
  if (!requirePython(t, torchModules)) return;
  const { repo, out } = copyOf("distilbert-sst2");
  const result = await runCli(["convert", repo, "--output", out, "--atol", "1e-12"]);
  assert.equal(result.code, 3, result.stderr);
  assert.match(result.stderr, /does not compute what the source model does: max abs diff logits/);
  // the fast export (no whole-graph shape inference) is ruled out as the cause before failing
  assert.match(result.stderr, /exporting again with full shape inference/);
  assertNothingWritten(out);
});

test("a second convert with the same options reuses the first; other options convert again", async (t) => {
  if (!requirePython(t, torchModules)) return;
  const { repo, out } = copyOf("distilbert-sst2");
  const first = await runCli(["convert", repo, "--output", out, "--json"]);
  assert.equal(first.code, 0, first.stderr);
  // with no Python at all it can only succeed by not converting again
  const second = await runCli(["convert", repo, "--output", out, "--json"], {
    env: { GPUX_PYTHON: "/nonexistent" },
  });
  assert.equal(second.code, 0, second.stderr);
  assert.equal((JSON.parse(second.stdout) as { report: { cached?: boolean } }).report.cached, true);
  const optimized = await runCli(["convert", repo, "--output", out, "--optimize", "--json"]);
  assert.equal(optimized.code, 0, optimized.stderr);
  const parsed = JSON.parse(optimized.stdout) as {
    onnx: string;
    report: { cached?: boolean; optimized_validation?: { passed: boolean } };
  };
  assert.equal(parsed.report.cached, undefined);
  assert.equal(parsed.report.optimized_validation?.passed, true);
  assert.match(parsed.onnx, /model\.optimized\.onnx$/);
});
