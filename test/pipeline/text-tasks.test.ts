import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Model } from "../../src/engine/model.js";
import { loadModel } from "../helpers/load-model.js";
import { pipelineFixtures, readJson } from "../helpers/pipeline-fixtures.js";
import { missingPythonModules, requirePython } from "../helpers/python.js";

const modules = ["torch", "transformers", "tokenizers", "sentence_transformers", "PIL"];
type Json = Record<string, unknown>;
let dir = "";
let reference: Record<string, Json> = {};
const models: Model[] = [];

before(() => {
  if (missingPythonModules(modules) && process.env.GPUX_REQUIRE_PYTHON_TESTS !== "1") return;
  dir = pipelineFixtures();
  reference = readJson(join(dir, "reference.json"));
});
after(async () => {
  for (const model of models) await model.dispose();
});

async function open(name: string): Promise<Model> {
  const model = await loadModel(join(dir, name));
  models.push(model);
  return model;
}

/** Deep equality where numbers may differ by 1e-4 (ONNX Runtime vs PyTorch). */
function assertClose(actual: unknown, expected: unknown, path = "result"): void {
  if (typeof expected === "number") {
    assert.equal(typeof actual, "number", `${path} is a number`);
    assert.ok(Math.abs((actual as number) - expected) <= 1e-4, `${path}: ${actual} vs ${expected}`);
    return;
  }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path} is a list`);
    assert.equal((actual as unknown[]).length, expected.length, `${path} length`);
    for (const [i, item] of expected.entries()) assertClose((actual as unknown[])[i], item, `${path}[${i}]`);
    return;
  }
  if (expected && typeof expected === "object") {
    assert.deepEqual(Object.keys(actual as object).sort(), Object.keys(expected).sort(), `${path} keys`);
    for (const [key, value] of Object.entries(expected))
      assertClose((actual as Json)[key], value, `${path}.${key}`);
    return;
  }
  assert.equal(actual, expected, path);
}

test("text-classification equals transformers' pipeline (top 1, all scores, pairs, a batch)", async (t) => {
  if (!requirePython(t, modules)) return;
  const model = await open("text-classification");
  const ref = reference["text-classification"] as {
    texts: string[];
    top1: Json[][];
    all: Json[][];
    pair: Json[];
  };
  for (const [i, text] of ref.texts.entries()) {
    assertClose(await model.predict({ text }), ref.top1[i]?.[0]);
    assertClose(await model.predict({ text, top_k: 3 }), ref.all[i]);
  }
  assertClose(
    await model.predict({ text: "the model runs fast", text_pair: "the server is slow", top_k: 3 }),
    ref.pair,
  );
  // One session call for the whole batch, padded to its longest text.
  assertClose(
    await model.predict({ text: ref.texts }),
    ref.top1.map((r) => r[0]),
  );
});

test("multi-label text classification uses sigmoid as config.json's problem_type says", async (t) => {
  if (!requirePython(t, modules)) return;
  const model = await open("multi-label");
  const ref = reference["multi-label"] as { texts: string[]; all: Json[][] };
  for (const [i, text] of ref.texts.entries())
    assertClose(await model.predict({ text, top_k: 3 }), ref.all[i]);
});

test("token-classification equals transformers for every aggregation strategy (labels, words, offsets)", async (t) => {
  if (!requirePython(t, modules)) return;
  const model = await open("token-classification");
  const ref = reference["token-classification"] as Record<string, unknown> & { texts: string[] };
  for (const strategy of ["none", "simple", "first", "average", "max"]) {
    const expected = ref[strategy] as unknown[];
    for (const [i, text] of ref.texts.entries()) {
      assertClose(
        await model.predict({ text, aggregation_strategy: strategy }),
        expected[i],
        `${strategy}[${i}]`,
      );
    }
  }
});

test("question-answering finds the same best span, score and offsets as transformers' model", async (t) => {
  if (!requirePython(t, modules)) return;
  const model = await open("question-answering");
  const ref = reference["question-answering"] as unknown as Array<{
    question: string;
    context: string;
    result: Json;
  }>;
  for (const { question, context, result } of ref)
    assertClose(await model.predict({ question, context }), result);
  assertClose(
    await model.predict({ question: ref.map((r) => r.question), context: ref.map((r) => r.context) }),
    ref.map((r) => r.result),
  );
  // The generic pair fields work too (the playground sends them).
  const first = ref[0] as (typeof ref)[number];
  assertClose(await model.predict({ text: first.question, text_pair: first.context }), first.result);
});

test("sentence embeddings equal sentence-transformers (mean pooling + normalise; CLS pooling)", async (t) => {
  if (!requirePython(t, modules)) return;
  const ref = reference["sentence-embeddings"] as {
    texts: string[];
    embeddings: number[][];
    cls: number[][];
  };
  const model = await open("sentence-embeddings");
  assert.ok(
    !model.inputs.some((input) => input.name === "token_type_ids"),
    "this export has no token_type_ids",
  );
  const batch = (await model.predict({ text: ref.texts })) as Array<{ embedding: number[] }>;
  assertClose(
    batch.map((item) => item.embedding),
    ref.embeddings,
  );
  const cls = join(dir, "sentence-embeddings", "gpux-cls.yml");
  writeFileSync(
    cls,
    "name: cls\ntask: feature-extraction\nmodel:\n  source: model.onnx\npostprocessing:\n  pooling: cls\n  normalize: false\n",
  );
  const { loadConfig } = await import("../../src/config/load-config.js");
  const { Model } = await import("../../src/engine/model.js");
  const clsModel = await Model.load(await loadConfig(cls));
  models.push(clsModel);
  for (const [i, text] of ref.texts.entries()) {
    assertClose(((await clsModel.predict({ text })) as { embedding: number[] }).embedding, ref.cls[i]);
  }
});

test("sentence-similarity compares the two texts of a pair by the cosine of their embeddings", async (t) => {
  if (!requirePython(t, modules)) return;
  const ref = reference["sentence-embeddings"] as { texts: string[]; embeddings: number[][] };
  const similarity = join(dir, "sentence-embeddings", "gpux-similarity.yml");
  writeFileSync(similarity, "name: sim\ntask: sentence-similarity\nmodel:\n  source: model.onnx\n");
  const { loadConfig } = await import("../../src/config/load-config.js");
  const { Model } = await import("../../src/engine/model.js");
  const model = await Model.load(await loadConfig(similarity));
  models.push(model);
  const [a, b] = [ref.embeddings[0] as number[], ref.embeddings[1] as number[]];
  const expected = a.reduce((sum, v, i) => sum + v * (b[i] as number), 0); // both are unit vectors
  assertClose(await model.predict({ text: ref.texts[0], text_pair: ref.texts[1] }), { score: expected });
  assertClose(((await model.predict({ text: ref.texts[0] })) as { embedding: number[] }).embedding, a);
});

test("fill-mask equals transformers' pipeline (top 5 tokens, scores, sequences)", async (t) => {
  if (!requirePython(t, modules)) return;
  const model = await open("fill-mask");
  const ref = reference["fill-mask"] as unknown as Array<{ text: string; result: Json[] }>;
  for (const { text, result } of ref) assertClose(await model.predict({ text }), result);
});

test("fill-mask names a special-token filler as transformers does, and keeps other masks in the sequence", async (t) => {
  if (!requirePython(t, modules)) return;
  const model = await open("fill-mask");
  const prepared = await model.pipeline.preprocess({ text: "the [MASK] fox [MASK]" }, model.context);
  const length = Number(prepared.feeds.input_ids?.dims[1]);
  const vocab = 600; // the fixture tokenizer's vocabulary
  // logits that put [UNK] (id 1 in this vocabulary) first at every position
  const logits = new Float32Array(length * vocab);
  for (let position = 0; position < length; position++) logits[position * vocab + 1] = 10;
  const { Tensor } = await import("onnxruntime-node");
  const name = model.context.outputs[0]?.name as string;
  const outputs = { [name]: new Tensor("float32", logits, [1, length, vocab]) };
  const [first] = model.pipeline.postprocess(outputs, prepared, model.context) as Array<Array<Json>>;
  assert.equal(first?.[0]?.token, 1);
  assert.equal(first?.[0]?.token_str, "[UNK]");
  assert.match(String(first?.[0]?.sequence), /\[UNK\].*\[MASK\]/);
});

test("raw tensors still work on a model with a task", async (t) => {
  if (!requirePython(t, modules)) return;
  const model = await open("text-classification");
  const result = (await model.predict({
    input_ids: [[2, 10, 11, 3]],
    attention_mask: [[1, 1, 1, 1]],
    token_type_ids: [[0, 0, 0, 0]],
  })) as { logits: number[][] };
  assert.equal(result.logits[0]?.length, 3);
});
