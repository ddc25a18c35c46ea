import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { gatherOutOfRange } from "../helpers/fault-models.js";
import type { ModelSpec } from "../helpers/onnx-builder.js";
import { call, startServer, writeModelFolder } from "../helpers/serving.js";
import { tempDir } from "../helpers/temp-dir.js";

const dir = tempDir();

/**
 * y = x as float32 for x int64 [batch, 1], but the graph first allocates max(x) floats (and sums them to 0):
 * one request with a huge value makes the whole merged batch fail as ONNX Runtime does when memory runs out —
 * a failure classed 500, not an input error, so only re-running the batch's requests apart isolates it.
 */
const allocatesMaxSpec: ModelSpec = {
  inputs: [{ name: "x", dtype: "int64", shape: ["batch", 1] }],
  outputs: [{ name: "y", dtype: "float32", shape: ["batch", 1] }],
  nodes: [
    { op: "ReduceMax", inputs: ["x"], outputs: ["m"], attributes: { keepdims: 0 } },
    { op: "Reshape", inputs: ["m", "one_dim"], outputs: ["size"] },
    { op: "ConstantOfShape", inputs: ["size"], outputs: ["zeros"] },
    { op: "ReduceSum", inputs: ["zeros"], outputs: ["zero"], attributes: { keepdims: 0 } },
    { op: "Cast", inputs: ["x"], outputs: ["xf"], attributes: { to: 1 } },
    { op: "Add", inputs: ["xf", "zero"], outputs: ["y"] },
  ],
  initializers: [{ name: "one_dim", dtype: "int64", dims: [1], values: [1] }],
};

const yaml = (name: string) => `name: ${name}\nmodel:\n  source: model.onnx\n`;
// A queue delay long enough that all 35 requests join one batch; room for all of them in it.
const server = await startServer(
  [
    writeModelFolder(dir, "gather", gatherOutOfRange.spec, yaml("gather")),
    writeModelFolder(dir, "allocates", allocatesMaxSpec, yaml("allocates")),
  ],
  { maxQueueDelayMs: 150, maxBatchSize: 64 },
);

const rowsOf = (answer: { headers: Headers }) =>
  Number(/batch;desc="(\d+) rows"/.exec(answer.headers.get("server-timing") ?? "")?.[1]);

describe("a bad request batched with good ones fails alone", () => {
  test("one out-of-range token id among 35 concurrent requests: 34 × 200 with their answers, one 400", async () => {
    const table = [
      [1, 2],
      [3, 4],
      [5, 6],
      [7, 8],
    ];
    const bad = 17;
    const ids = Array.from({ length: 35 }, (_, i) => (i === bad ? [1, 9] : [i % 4, (i + 1) % 4]));
    const answers = await Promise.all(
      ids.map((row) => call(`${server.url}predict/gather`, { body: { ids: [row] } })),
    );
    answers.forEach((answer, i) => {
      if (i === bad) {
        assert.equal(answer.status, 400, JSON.stringify(answer.body));
        assert.match((answer.body as { error: string }).error, /out of data bounds/);
        return;
      }
      assert.equal(answer.status, 200, `request ${i}: ${JSON.stringify(answer.body)}`);
      const [a, b] = ids[i] as number[];
      assert.deepEqual(answer.body, { y: [[table[a as number], table[b as number]]] });
    });
    const rows = answers.filter((_, i) => i !== bad).map(rowsOf);
    assert.ok(Math.max(...rows) > 1, `the good requests stay merged in batches (rows ${rows})`);
  });

  test("a request that makes the merged batch fail with a 500-class error fails alone", async () => {
    const bad = 5;
    const values = Array.from({ length: 35 }, (_, i) => (i === bad ? 2 ** 52 : i + 1));
    const answers = await Promise.all(
      values.map((v) => call(`${server.url}predict/allocates`, { body: { x: [[v]] } })),
    );
    answers.forEach((answer, i) => {
      if (i === bad) {
        assert.equal(answer.status, 500, JSON.stringify(answer.body));
        return;
      }
      assert.equal(answer.status, 200, `request ${i}: ${JSON.stringify(answer.body)}`);
      assert.deepEqual(answer.body, { y: [[values[i]]] });
    });
  });
});
