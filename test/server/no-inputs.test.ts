import assert from "node:assert/strict";
import { test } from "node:test";
import { call, startServer, writeModelFolder } from "../helpers/serving.js";
import { tempDir } from "../helpers/temp-dir.js";

// The shape of ONNX's backend test `test_constant`: no inputs, one Constant node → output.
const dir = writeModelFolder(
  tempDir(),
  "constant",
  {
    inputs: [],
    outputs: [{ name: "values", dtype: "int64", shape: [3] }],
    nodes: [{ op: "Constant", inputs: [], outputs: ["values"], attributes: { value_ints: [4, 5, 6] } }],
  },
  "name: constant\nmodel:\n  source: model.onnx\n",
);
const server = await startServer([dir]);

test("a model without inputs: OIP infer with inputs [] is answered", async () => {
  const metadata = await call(`${server.url}v2/models/constant`);
  assert.deepEqual((metadata.body as { inputs: unknown[] }).inputs, []);
  const answer = await call(`${server.url}v2/models/constant/infer`, { body: { id: "c", inputs: [] } });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  const body = answer.body as { id: string; outputs: unknown[] };
  assert.equal(body.id, "c");
  assert.deepEqual(body.outputs, [{ name: "values", datatype: "INT64", shape: [3], data: [4, 5, 6] }]);
});

test("a model without inputs: an input it does not have is still refused", async () => {
  const answer = await call(`${server.url}v2/models/constant/infer`, {
    body: { inputs: [{ name: "x", shape: [1], datatype: "FP32", data: [1] }] },
  });
  assert.equal(answer.status, 400);
});
