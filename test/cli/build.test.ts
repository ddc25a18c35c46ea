import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { runCli } from "../helpers/cli.js";
import { addOne, writeModel } from "../helpers/models.js";
import { tempDir } from "../helpers/temp-dir.js";

const dir = tempDir();

function project(name: string, yaml: string): string {
  const folder = join(dir, name);
  writeModel(folder, "model.onnx", addOne);
  writeFileSync(join(folder, "gpux.yml"), yaml);
  return folder;
}

const good = [
  "name: adder",
  "version: 1.2.0",
  "model:",
  "  source: model.onnx",
  "  version: v7",
  "inputs:",
  "  x: {type: float32, shape: [batch, 3], description: three numbers}",
  "outputs:",
  "  - name: y",
  "    type: float",
  "    labels: [a, b, c]",
  "metadata:",
  "  owner: tests",
  "",
].join("\n");

describe("gpux build", () => {
  test("writes .gpux/build.json describing the project", async () => {
    const folder = project("good", good);
    const result = await runCli(["build", folder]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /^built adder 1\.2\.0: 1 input\(s\), 1 output\(s\), provider cpu\nwrote .*build\.json\n$/,
    );
    const report = JSON.parse(readFileSync(join(folder, ".gpux", "build.json"), "utf8"));
    assert.deepEqual(
      Object.keys(report),
      [
        "name",
        "version",
        "description",
        "task",
        "model_path",
        "config_path",
        "size_bytes",
        "provider",
        "provider_attempts",
        "model_version",
        "inputs",
        "outputs",
        "onnx",
        "metadata",
        "sha256",
        "optimized_model_path",
        "built_at",
        "gpux_version",
      ].filter((key) => key !== "description"),
    );
    assert.equal(report.model_version, "v7");
    assert.deepEqual(report.inputs, [
      { name: "x", dtype: "float32", shape: ["batch", 3], description: "three numbers" },
    ]);
    assert.deepEqual(report.outputs, [
      { name: "y", dtype: "float32", shape: ["batch", 3], labels: ["a", "b", "c"] },
    ]);
    assert.deepEqual(report.onnx, {
      ir_version: 8,
      producer: "gpux-tests",
      producer_version: "1",
      opsets: { "": 17 },
      metadata: { author: "gpux-tests" },
    });
    assert.deepEqual(report.metadata, { owner: "tests" });
    assert.match(report.sha256, /^[0-9a-f]{64}$/);
    assert.equal(report.optimized_model_path, null);
    assert.equal(report.gpux_version, JSON.parse(readFileSync("package.json", "utf8")).version);
    assert.deepEqual(report.provider_attempts.at(-1), {
      provider: "cpu",
      ok: true,
      reason: "first available provider that opened the model",
    });
  });

  test("--json prints ok, the report path and the report", async () => {
    const folder = project("json", good);
    const result = await runCli(["build", folder, "--json"]);
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout);
    assert.equal(out.ok, true);
    assert.equal(out.build, join(folder, ".gpux", "build.json"));
    assert.equal(out.name, "adder");
    assert.deepEqual(
      { ...out, ok: undefined, build: undefined },
      {
        ...JSON.parse(readFileSync(out.build, "utf8")),
        ok: undefined,
        build: undefined,
      },
    );
  });

  test("--optimize writes ONNX Runtime's optimised graph, which runs the same", async () => {
    const folder = project("optimize", good);
    const result = await runCli(["build", folder, "--optimize"]);
    assert.equal(result.code, 0, result.stderr);
    const optimized = join(folder, ".gpux", "model.optimized.onnx");
    assert.ok(existsSync(optimized));
    assert.equal(
      JSON.parse(readFileSync(join(folder, ".gpux", "build.json"), "utf8")).optimized_model_path,
      optimized,
    );
    const run = await runCli(["run", optimized, "-i", '{"x": [[1, 2, 3]]}']);
    assert.deepEqual(JSON.parse(run.stdout), { y: [[2, 3, 4]] });
  });

  test("a bare .onnx file builds into .gpux beside it", async () => {
    const path = writeModel(join(dir, "bare"), "net.onnx", addOne);
    const result = await runCli(["build", path]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(readFileSync(join(dir, "bare", ".gpux", "build.json"), "utf8")).name, "net");
  });

  test("-c picks another config file in the project", async () => {
    const folder = project("other-config", good);
    writeFileSync(join(folder, "alt.yml"), "name: alt\nmodel:\n  source: model.onnx\n");
    const result = await runCli(["build", folder, "-c", "alt.yml", "--json"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).name, "alt");
  });

  test("a gpux.yml that contradicts the model is rejected, naming every mismatch", async () => {
    const folder = project(
      "contradicts",
      [
        "name: wrong",
        "model:",
        "  source: model.onnx",
        "inputs:",
        "  x: {type: int64, shape: [batch, 4]}",
        "  extra: float32",
        "outputs:",
        "  y: {labels: [only, two]}",
        "",
      ].join("\n"),
    );
    const result = await runCli(["build", folder]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error: gpux\.yml does not match the model:/);
    assert.match(result.stderr, /inputs\.x: type int64 but the model declares float32/);
    assert.match(result.stderr, /inputs\.x: shape \[batch, 4\] does not fit the model's \[batch, 3\]/);
    assert.match(result.stderr, /inputs\.extra: the model has no input 'extra' \(it has 'x'\)/);
    assert.match(result.stderr, /outputs\.y: 2 labels but the model outputs 3 classes/);
    assert.match(result.stderr, /^hint: /m);
    assert.ok(!existsSync(join(folder, ".gpux", "build.json")));
  });

  test("a folder without gpux.yml or model is not found (exit 2)", async () => {
    const result = await runCli(["build", tempDir()]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /has no gpux\.yml and no single \.onnx model/);
  });
});
