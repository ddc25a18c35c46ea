import assert from "node:assert/strict";
import { test } from "node:test";
import { runCli } from "../helpers/cli.js";
import { allocationFailure, inputFaults } from "../helpers/fault-models.js";
import { writeModel } from "../helpers/models.js";
import { tempDir } from "../helpers/temp-dir.js";

const dir = tempDir();

for (const [name, model] of Object.entries(inputFaults)) {
  test(`gpux run: ${name} is the input's fault, exit 1 with a hint and no ONNX Runtime source paths`, async () => {
    writeModel(dir, `${name}.onnx`, model.spec);
    const result = await runCli(["run", `${name}.onnx`, "-i", JSON.stringify(model.request)], { cwd: dir });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /error: Model '\w+' rejected the input: \w+ node/);
    assert.match(result.stderr, /hint: /);
    assert.doesNotMatch(result.stderr, /onnxruntime_src|\.(h|cc):\d+|onnxruntime::/);
  });
}

test("gpux run: a genuine ONNX Runtime failure exits 3", async () => {
  writeModel(dir, "alloc.onnx", allocationFailure.spec);
  const result = await runCli(["run", "alloc.onnx", "-i", JSON.stringify(allocationFailure.request)], {
    cwd: dir,
  });
  assert.equal(result.code, 3, result.stderr);
  assert.match(result.stderr, /error: Inference failed for model 'alloc': .*Failed to allocate memory/);
});
