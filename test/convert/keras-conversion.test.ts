import assert from "node:assert/strict";
import { cpSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runCli } from "../helpers/cli.js";
import { kerasModelNames, kerasModelsDir } from "../helpers/keras-models.js";
import { requirePython } from "../helpers/python.js";
import { tempDir } from "../helpers/temp-dir.js";
import { maxAbsDiff } from "../helpers/tiny-transformers.js";

// Keras 3 on torch, as the bridge runs it: no TensorFlow is imported (this machine has none)
process.env.KERAS_BACKEND = "torch";
const modules = ["keras", "torch", "onnx", "onnxruntime"];

for (const name of kerasModelNames) {
  test(`gpux convert of a Keras model (${name}): ONNX output within 1e-5 of Keras`, async (t) => {
    if (!requirePython(t, modules)) return;
    const folder = join(tempDir(), name);
    cpSync(join(kerasModelsDir(), name), folder, { recursive: true });
    const converted = await runCli(["convert", folder, "--json"]);
    assert.equal(converted.code, 0, converted.stderr);
    const { onnx, report } = JSON.parse(converted.stdout);
    assert.equal(report.converter, "keras");
    assert.equal(report.task, "raw");
    assert.deepEqual(report.inputs, ["features"]);
    assert.deepEqual(report.outputs, ["scores"]);
    assert.equal(report.validation.passed, true);

    const reference = JSON.parse(readFileSync(join(folder, "reference.json"), "utf8"));
    const ran = await runCli(["run", onnx, "--input", JSON.stringify(reference.inputs)]);
    assert.equal(ran.code, 0, ran.stderr);
    const answer = JSON.parse(ran.stdout) as { scores: number[][] };
    const diff = maxAbsDiff(answer.scores, reference.outputs.scores);
    assert.ok(diff <= 1e-5, `max abs diff ${diff}`);
  });
}

test("gpux doctor says which TensorFlow formats convert and which do not", async () => {
  const result = await runCli(["doctor"]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^ {2}keras +Keras \.keras and Keras \.h5 files, with Keras 3 on torch/m);
  assert.match(
    result.stdout,
    /^ {2}tensorflow +SavedModel and transformers' tf_model\.h5 \(needs tensorflow and tf2onnx\)/m,
  );
  assert.match(result.stdout, /not converted: TensorFlow Lite/);
  const json = JSON.parse((await runCli(["doctor", "--json"])).stdout);
  assert.deepEqual(
    json.converters.map((c: { name: string }) => c.name),
    ["passthrough", "pytorch", "keras", "tensorflow"],
  );
});
