import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { listProviders } from "../../src/runtime/providers.js";
import { runCli } from "../helpers/cli.js";
import { addOne, writeModel } from "../helpers/models.js";
import { tempDir } from "../helpers/temp-dir.js";

const dir = tempDir();
const model = writeModel(dir, "add.onnx", addOne);

describe("gpux inspect", () => {
  test("with no model: the execution providers here, in auto's order", async () => {
    const result = await runCli(["inspect", "--json"]);
    assert.equal(result.code, 0, result.stderr);
    const { providers } = JSON.parse(result.stdout);
    assert.deepEqual(
      providers.map((p: { name: string }) => p.name),
      ["tensorrt", "cuda", "dml", "coreml", "webgpu", "cpu", "rocm", "openvino"],
    );
    for (const p of providers) assert.deepEqual(Object.keys(p), ["name", "available", "reason"]);
    assert.equal(providers.find((p: { name: string }) => p.name === "cpu").available, true);
    for (const name of ["rocm", "openvino"]) {
      const p = providers.find((entry: { name: string }) => entry.name === name);
      assert.equal(p.available, false);
      assert.match(p.reason, /onnxruntime-node has no .* build/);
    }
    const text = await runCli(["inspect"]);
    assert.match(text.stdout, /^provider\s+available\s+why$/m);
    assert.match(text.stdout, /^cpu\s+yes\s+bundled with onnxruntime-node$/m);
  });

  test("--json shape for a model", async () => {
    const result = await runCli(["inspect", model, "--json"]);
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout);
    assert.deepEqual(Object.keys(out), [
      "name",
      "version",
      "task",
      "model_path",
      "config_path",
      "size_bytes",
      "provider",
      "provider_attempts",
      "inputs",
      "outputs",
      "onnx",
      "metadata",
    ]);
    assert.equal(out.name, "add");
    assert.equal(out.task, "raw");
    assert.equal(out.size_bytes, readFileSync(model).length);
    assert.deepEqual(out.inputs, [{ name: "x", dtype: "float32", shape: ["batch", 3] }]);
    assert.deepEqual(out.outputs, [{ name: "y", dtype: "float32", shape: ["batch", 3] }]);
    assert.deepEqual(out.onnx.metadata, { author: "gpux-tests" });
    assert.equal(out.onnx.producer, "gpux-tests");
    const same = await runCli(["inspect", "-m", model, "--json-output"]);
    assert.deepEqual(JSON.parse(same.stdout), out);
  });

  test("the task is gpux.yml's, also for a task served without a pipeline (text-generation)", async () => {
    const folder = join(dir, "decoder");
    writeModel(folder, "model.onnx", addOne);
    writeFileSync(
      join(folder, "gpux.yml"),
      "name: decoder\nmodel:\n  source: model.onnx\ntask: text-generation\n",
    );
    const result = await runCli(["inspect", folder, "--json"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).task, "text-generation");
    const text = await runCli(["inspect", folder]);
    assert.match(text.stdout, /^task: {7}text-generation$/m);
  });

  test("text output names inputs, outputs, opsets and metadata", async () => {
    const result = await runCli(["inspect", model]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^name: {7}add \(version 1\.0\.0\)$/m);
    assert.match(result.stdout, /^opsets: {5}ai\.onnx 17$/m);
    assert.match(result.stdout, /^ {2}x\s+float32\s+\[batch, 3\]$/m);
    assert.match(result.stdout, /^ {2}author: gpux-tests$/m);
  });

  test("--provider rocm: unavailable, with the reason", async () => {
    const result = await runCli(["inspect", model, "--provider", "rocm"]);
    assert.equal(result.code, 3);
    assert.match(
      result.stderr,
      /^error: Execution provider 'rocm' is not available here: onnxruntime-node has no ROCm/,
    );
    assert.match(result.stderr, /^hint: Run `gpux inspect` to list providers/m);
  });

  test("--provider cuda without the CUDA libraries: unavailable, with the install command", async (t) => {
    if (listProviders().find((p) => p.name === "cuda")?.available) {
      t.skip("the CUDA provider libraries are installed here");
      return;
    }
    const result = await runCli(["run", model, "-i", '{"x": [[1, 2, 3]]}', "--provider", "cuda"]);
    assert.equal(result.code, 3);
    assert.match(
      result.stderr,
      /Execution provider 'cuda' is not available here: provider library missing: .*--onnxruntime-node-install=cuda12/,
    );
  });

  test("auto falls back past a provider whose session fails (WebGPU without a usable Vulkan) to CPU", async (t) => {
    const webgpu = listProviders().find((p) => p.name === "webgpu");
    if (process.platform !== "linux" || webgpu?.available || !/Vulkan/.test(webgpu?.reason ?? "")) {
      t.skip("needs Linux with onnxruntime-node's WebGPU provider and no Vulkan loader");
      return;
    }
    // An empty libvulkan.so.1 makes WebGPU look available; creating a session on it then really fails.
    const fakeVulkan = tempDir();
    writeFileSync(join(fakeVulkan, "libvulkan.so.1"), "");
    const env = { LD_LIBRARY_PATH: fakeVulkan };
    const result = await runCli(["inspect", model, "--json"], { env });
    assert.equal(result.code, 0, result.stderr);
    const { provider, provider_attempts: attempts } = JSON.parse(result.stdout);
    assert.equal(provider, "cpu");
    const names = attempts.map((a: { provider: string }) => a.provider);
    assert.deepEqual(names, ["tensorrt", "cuda", "dml", "coreml", "webgpu", "cpu"]);
    assert.equal(attempts[4].ok, false);
    assert.match(attempts[4].reason, /^session failed: .*WebGPU adapter/);
    assert.equal(attempts[5].ok, true);

    const forced = await runCli(["run", model, "-i", '{"x": [[1, 2, 3]]}', "--provider", "webgpu"], { env });
    assert.equal(forced.code, 3);
    assert.match(forced.stderr, /^error: Execution provider 'webgpu' failed: .*WebGPU adapter/m);
    assert.match(forced.stderr, /^hint: .*--provider auto to fall back/m);
  });

  test("--provider cpu is used as asked", async () => {
    const result = await runCli(["inspect", model, "--provider", "cpu", "--json"]);
    assert.deepEqual(JSON.parse(result.stdout).provider_attempts, [
      { provider: "cpu", ok: true, reason: "forced with --provider" },
    ]);
  });
});

describe("global flags", () => {
  test("--version prints the package version", async () => {
    const result = await runCli(["--version"]);
    assert.equal(result.code, 0);
    assert.equal(result.stdout.trim(), JSON.parse(readFileSync("package.json", "utf8")).version);
  });

  for (const command of ["build", "run", "inspect"]) {
    test(`${command} --help`, async () => {
      const result = await runCli([command, "--help"]);
      assert.equal(result.code, 0);
      assert.match(result.stdout, new RegExp(`^Usage: gpux ${command} `));
    });
  }
});
