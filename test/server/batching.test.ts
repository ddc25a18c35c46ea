import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as ort from "onnxruntime-node";
import { resolveModelRef } from "../../src/app/resolve.js";
import { mergeFeeds, splitOutputs } from "../../src/engine/merge-feeds.js";
import { ServedModel } from "../../src/engine/served-model.js";
import { modelServingOptions } from "../../src/engine/serving-options.js";
import { addOneSpec, call, startServer, writeModelFolder } from "../helpers/serving.js";
import { tempDir } from "../helpers/temp-dir.js";

const dir = tempDir();
const ids = (values: number[][]) =>
  new ort.Tensor("int64", BigInt64Array.from(values.flat().map(BigInt)), [
    values.length,
    values[0]?.length ?? 0,
  ]);

describe("merging feeds along axis 0", () => {
  test("pads the last axis with each feed's padding value and splits outputs back by rows", () => {
    const merged = mergeFeeds([
      { feeds: { input_ids: ids([[5, 6, 7]]), mask: ids([[1, 1, 1]]) }, padding: { input_ids: 9, mask: 0 } },
      { feeds: { input_ids: ids([[1], [2]]), mask: ids([[1], [1]]) }, padding: { input_ids: 9, mask: 0 } },
    ]);
    assert.deepEqual(merged.input_ids?.dims, [3, 3]);
    assert.deepEqual(
      Array.from(merged.input_ids?.data as BigInt64Array, Number),
      [5, 6, 7, 1, 9, 9, 2, 9, 9],
    );
    assert.deepEqual(Array.from(merged.mask?.data as BigInt64Array, Number), [1, 1, 1, 1, 0, 0, 1, 0, 0]);
    const outputs = { y: new ort.Tensor("float32", Float32Array.from([1, 2, 3, 4, 5, 6]), [3, 2]) };
    const [first, second] = splitOutputs(outputs, [1, 2], "m");
    assert.deepEqual(first?.y?.dims, [1, 2]);
    assert.deepEqual(Array.from(first?.y?.data as Float32Array), [1, 2]);
    assert.deepEqual(second?.y?.dims, [2, 2]);
    assert.deepEqual(Array.from(second?.y?.data as Float32Array), [3, 4, 5, 6]);
  });

  test("refuses to split outputs that lost the batch axis", () => {
    const outputs = { y: new ort.Tensor("float32", Float32Array.from([1]), [1]) };
    assert.throws(() => splitOutputs(outputs, [1, 2], "m"), /cannot be split/);
  });
});

describe("the dynamic batcher on a real worker pool", () => {
  test("concurrent requests of different lengths run as one padded batch with correct answers", async () => {
    // y[b] = sum over the sequence of x[b, :]: padding with 0 must not change any answer.
    const folder = writeModelFolder(dir, "row-sum", {
      inputs: [{ name: "x", dtype: "int64", shape: ["batch", "sequence"] }],
      outputs: [{ name: "y", dtype: "int64", shape: ["batch"] }],
      nodes: [{ op: "ReduceSum", inputs: ["x", "axes"], outputs: ["y"], attributes: { keepdims: 0 } }],
      initializers: [{ name: "axes", dtype: "int64", dims: [1], values: [1] }],
    });
    const loaded = await resolveModelRef(folder);
    const model = new ServedModel(
      loaded,
      modelServingOptions(loaded.config, { maxQueueDelayMs: 200, maxBatchSize: 16 }),
    );
    await model.start();
    try {
      const rows = [[1], [1, 2], [1, 2, 3], [1, 2, 3, 4], [10, 20, 30, 40, 50]];
      const results = await Promise.all(rows.map((row) => model.infer({ x: ids([row]) }, { x: 0 })));
      results.forEach((result, i) => {
        const expected = (rows[i] as number[]).reduce((a, b) => a + b, 0);
        assert.equal(Number((result.outputs.y as { data: BigInt64Array }).data[0]), expected);
        assert.equal(result.batchRows, rows.length, "all five requests ran in one session.run");
      });
    } finally {
      await model.stop();
    }
  });
});

describe("batching over HTTP", async () => {
  const server = await startServer([writeModelFolder(dir, "add-one", addOneSpec)], { maxQueueDelayMs: 100 });

  test("every concurrent request gets its own answer, merged into shared batches", async () => {
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => call(`${server.url}predict`, { body: { x: [[i, i, i, i]] } })),
    );
    answers.forEach((answer, i) => {
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.body, { y: [[i + 1, i + 1, i + 1, i + 1]] });
    });
    const rows = answers.map((a) =>
      Number(/batch;desc="(\d+) rows"/.exec(a.headers.get("server-timing") ?? "")?.[1]),
    );
    assert.ok(Math.max(...rows) > 1, `expected merged batches, got rows ${rows}`);
    assert.ok(Math.max(...rows) <= 8, "max_batch_size (default 8) holds");
  });
});
