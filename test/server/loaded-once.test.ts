import assert from "node:assert/strict";
import { copyFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { qwenTokenizerDir } from "../helpers/pipeline-fixtures.js";
import { call, startServer } from "../helpers/serving.js";
import { writeSumIdsModel } from "../helpers/sum-ids-model.js";
import { tempDir } from "../helpers/temp-dir.js";

// A text classifier whose labels come from config.json and whose tokenizer lies beside gpux.yml.
const dir = writeSumIdsModel(tempDir());
for (const name of ["tokenizer.json", "tokenizer_config.json"])
  copyFileSync(join(qwenTokenizerDir, name), join(dir, name));
writeFileSync(join(dir, "config.json"), JSON.stringify({ id2label: { 0: "high", 1: "low" } }));
writeFileSync(
  join(dir, "gpux.yml"),
  "name: sum-ids\ntask: text-classification\nmodel:\n  source: model.onnx\npostprocessing:\n  function: none\n",
);
const server = await startServer([dir]);

test("per-model work is done at load: /info and /predict answer with the model's files gone", async () => {
  const before = await call(`${server.url}info`);
  assert.equal(before.status, 200);
  const predicted = await call(`${server.url}predict`, { body: { text: "hello" } });
  assert.equal(predicted.status, 200, JSON.stringify(predicted.body));
  assert.equal((predicted.body as { label: string }).label, "high");
  // Nothing a request needs is read from disk after load: take every file away.
  for (const name of ["model.onnx", "config.json", "tokenizer.json", "tokenizer_config.json"])
    rmSync(join(dir, name));
  const after = await call(`${server.url}info`);
  assert.equal(after.status, 200, JSON.stringify(after.body));
  assert.deepEqual(after.body, before.body);
  const again = await call(`${server.url}predict`, { body: { text: "hello" } });
  assert.deepEqual(again.body, predicted.body);
});
