import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { loadModel } from "../helpers/load-model.js";
import { buildOnnxModel } from "../helpers/onnx-builder.js";
import { qwenTokenizerDir } from "../helpers/pipeline-fixtures.js";
import { call, startServer } from "../helpers/serving.js";
import { tempDir } from "../helpers/temp-dir.js";

/** An embedding model needing no Python: each token's hidden state is [its id / 10⁴, 1], tokenized by Qwen3's tokenizer. */
function writeEmbeddingModel(task: string): string {
  const dir = tempDir();
  const bytes = buildOnnxModel({
    inputs: [
      { name: "input_ids", dtype: "int64", shape: ["batch", "sequence"] },
      { name: "attention_mask", dtype: "int64", shape: ["batch", "sequence"] },
    ],
    outputs: [{ name: "last_hidden_state", dtype: "float32", shape: ["batch", "sequence", 2] }],
    initializers: [
      { name: "axes", dtype: "int64", dims: [1], values: [2] },
      { name: "scale", dtype: "float32", dims: [2], values: [0.0001, 0] },
      { name: "bias", dtype: "float32", dims: [2], values: [0, 1] },
    ],
    nodes: [
      { op: "Cast", inputs: ["input_ids"], outputs: ["ids_f"], attributes: { to: 1 } },
      { op: "Unsqueeze", inputs: ["ids_f", "axes"], outputs: ["ids_3d"] },
      { op: "Mul", inputs: ["ids_3d", "scale"], outputs: ["scaled"] },
      { op: "Add", inputs: ["scaled", "bias"], outputs: ["last_hidden_state"] },
    ],
  });
  writeFileSync(join(dir, "model.onnx"), bytes);
  writeFileSync(
    join(dir, "gpux.yml"),
    `name: embed\ntask: ${task}\nmodel:\n  source: model.onnx\npreprocessing:\n  tokenizer: ${qwenTokenizerDir}\n`,
  );
  return dir;
}

function cosine(a: number[], b: number[]): number {
  const dot = a.reduce((sum, v, i) => sum + v * (b[i] as number), 0);
  return dot / Math.sqrt(a.reduce((s, v) => s + v * v, 0) * b.reduce((s, v) => s + v * v, 0));
}

for (const task of ["feature-extraction", "sentence-similarity"]) {
  test(`${task}: {"text", "text_pair"} answers the cosine of the two texts' embeddings`, async () => {
    const model = await loadModel(writeEmbeddingModel(task));
    after(() => model.dispose());
    const [a, b] = ["gpux serves models", "a different sentence entirely"];
    const embedding = async (text: string) =>
      ((await model.predict({ text })) as { embedding: number[] }).embedding;
    const expected = cosine(await embedding(a), await embedding(b));
    assert.ok(expected < 0.9999, "the two texts embed differently");
    const answer = (await model.predict({ text: a, text_pair: b })) as { score: number };
    assert.ok(Math.abs(answer.score - expected) < 1e-6, `${answer.score} vs ${expected}`);
    const batch = (await model.predict({ text: [a, b], text_pair: [b, b] })) as Array<{ score: number }>;
    assert.ok(Math.abs((batch[0]?.score as number) - expected) < 1e-6);
    assert.ok(Math.abs((batch[1]?.score as number) - 1) < 1e-6);
  });
}

test("feature-extraction over HTTP: text_pair is answered 200, as the model's own hint advertises", async () => {
  const server = await startServer([writeEmbeddingModel("feature-extraction")]);
  const unknown = await call(`${server.url}predict`, { body: { txt: "x" } });
  assert.equal(unknown.status, 400);
  assert.match((unknown.body as { hint: string }).hint, /'text_pair'/);
  const answer = await call(`${server.url}predict`, { body: { text: "one", text_pair: "two" } });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.equal(typeof (answer.body as { score: number }).score, "number");
});
