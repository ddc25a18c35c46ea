import assert from "node:assert/strict";
import { test } from "node:test";
import { allocationFailure, inputFaults } from "../helpers/fault-models.js";
import { call, startServer, writeModelFolder } from "../helpers/serving.js";
import { tempDir } from "../helpers/temp-dir.js";

const dir = tempDir();
const models = { ...inputFaults, allocationFailure };
const server = await startServer(
  Object.entries(models).map(([name, model]) =>
    writeModelFolder(dir, name, model.spec, `name: ${name}\nmodel:\n  source: model.onnx\n`),
  ),
);

const sourcePath = /onnxruntime_src|\.(h|cc):\d+|onnxruntime::/;

for (const [name, model] of Object.entries(inputFaults)) {
  test(`serve: ${name} answers 400 with a hint on /predict and on OIP infer`, async () => {
    const predict = await call(`${server.url}predict/${name}`, { body: model.request });
    assert.equal(predict.status, 400, JSON.stringify(predict.body));
    const body = predict.body as { error: string; hint?: string };
    assert.match(body.error, /rejected the input: \w+ node/);
    assert.ok(body.hint);
    assert.doesNotMatch(JSON.stringify(body), sourcePath);
    const oip = await call(`${server.url}v2/models/${name}/infer`, { body: model.oip });
    assert.equal(oip.status, 400, JSON.stringify(oip.body));
    assert.doesNotMatch(JSON.stringify(oip.body), sourcePath);
  });
}

test("serve: a genuine ONNX Runtime failure answers 500 on /predict and on OIP infer", async () => {
  const predict = await call(`${server.url}predict/allocationFailure`, { body: allocationFailure.request });
  assert.equal(predict.status, 500, JSON.stringify(predict.body));
  const oip = await call(`${server.url}v2/models/allocationFailure/infer`, { body: allocationFailure.oip });
  assert.equal(oip.status, 500, JSON.stringify(oip.body));
});
