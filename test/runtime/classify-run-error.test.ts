import assert from "node:assert/strict";
import { test } from "node:test";
import * as ort from "onnxruntime-node";
import { classifyRunError, readableRunError } from "../../src/engine/classify-run-error.js";
import { runModelSession } from "../../src/engine/model-session.js";
import { encodeTensor } from "../../src/runtime/encode-tensor.js";
import { RuntimeFailure, UserError } from "../../src/util/errors.js";
import { allocationFailure, type FaultModel, inputFaults } from "../helpers/fault-models.js";
import { buildOnnxModel } from "../helpers/onnx-builder.js";

/** ONNX Runtime's own error for the model's bad request, from a real session. */
async function ortError(model: FaultModel): Promise<Error> {
  const session = await ort.InferenceSession.create(buildOnnxModel(model.spec), { logSeverityLevel: 4 });
  try {
    const feeds = Object.fromEntries(
      session.inputNames.map((name, i) => {
        const spec = model.spec.inputs[i] as (typeof model.spec.inputs)[number];
        return [name, encodeTensor({ name, dtype: spec.dtype, shape: spec.shape }, model.request[name])];
      }),
    );
    await session.run(feeds);
  } catch (error) {
    return error as Error;
  } finally {
    await session.release();
  }
  throw new Error("the run did not fail");
}

const sourcePath = /onnxruntime_src|\.(h|cc|cpp):\d+|onnxruntime::|was false/;

for (const [name, model] of Object.entries(inputFaults)) {
  test(`${name}: ONNX Runtime's real message is a user error with a hint and no source paths`, async () => {
    const error = classifyRunError("m", await ortError(model));
    assert.ok(error instanceof UserError, `${name}: ${error.message}`);
    assert.equal(error.httpStatus, 400);
    assert.equal(error.exitCode, 1);
    assert.match(error.message, /^Model 'm' rejected the input: \w+ node '\w+': \S/);
    assert.doesNotMatch(error.message, sourcePath);
    assert.ok(error.hint && error.hint.length > 10);
  });
}

test("the messages keep what a user can act on", async () => {
  const gather = readableRunError((await ortError(inputFaults.gatherOutOfRange)).message);
  assert.match(gather, /Gather node '.*': indices element out of data bounds, idx=9 .*\[-4,3\]/);
  const reshape = readableRunError((await ortError(inputFaults.reshapeMismatch)).message);
  assert.match(reshape, /^Reshape node '.*': The input tensor cannot be reshaped .*Input shape:\{5\}/);
  const expand = readableRunError((await ortError(inputFaults.expandNegative)).message);
  assert.match(expand, /^Expand node '.*': Tensor shape.Size\(\) must be >= 0$/);
});

test("a genuine failure (an allocation ONNX Runtime cannot make) stays a runtime failure", async () => {
  const error = classifyRunError("m", await ortError(allocationFailure));
  assert.ok(error instanceof RuntimeFailure, error.message);
  assert.equal(error.httpStatus, 500);
  assert.equal(error.exitCode, 3);
  assert.match(error.message, /Failed to allocate memory/);
  assert.doesNotMatch(error.message, sourcePath);
});

test("runModelSession classifies what the session throws", async () => {
  const model = inputFaults.gatherOutOfRange;
  const session = await ort.InferenceSession.create(buildOnnxModel(model.spec), { logSeverityLevel: 4 });
  const ids = new ort.Tensor("int64", BigInt64Array.from([1n, 9n]), [1, 2]);
  await assert.rejects(runModelSession(session, "m", { ids }), UserError);
  await session.release();
});
