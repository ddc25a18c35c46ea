import assert from "node:assert/strict";
import { test } from "node:test";
import type { TensorMap } from "../../src/pipeline/pipeline.js";
import { loadTokenizer } from "../../src/pipeline/text/load-tokenizer.js";
import { runCli } from "../helpers/cli.js";
import { loadModel } from "../helpers/load-model.js";
import { writeSumIdsModel } from "../helpers/sum-ids-model.js";
import { tempDir } from "../helpers/temp-dir.js";

type Answer = { label: string; score: number };

test("a batch of texts runs as one session call, padded to its longest text, same answers as one by one", async () => {
  const model = await loadModel(writeSumIdsModel(tempDir()));
  const texts = ["short", "a somewhat longer sentence with more tokens", "日本語 😀 café"];
  const single = [];
  for (const text of texts) single.push((await model.predict({ text, top_k: 2 })) as Answer[]);
  const calls: TensorMap[] = [];
  const run = model.runFeeds.bind(model);
  model.runFeeds = async (feeds, names) => {
    calls.push(feeds);
    return run(feeds, names);
  };
  const batch = (await model.predict({ text: texts, top_k: 2 })) as Answer[][];
  assert.equal(calls.length, 1, "one session call");
  const tokenizer = loadTokenizer(model.context);
  const longest = Math.max(...texts.map((text) => tokenizer.encode(text).ids.length));
  assert.deepEqual(calls[0]?.input_ids?.dims, [3, longest], "padded to the longest text, not a fixed length");
  assert.deepEqual(batch, single);
  // sum(ids) of one text: the score of "high" is the sum of its token ids.
  assert.equal(single[0]?.[0]?.label, "high");
  await model.dispose();
});

test("max_length from gpux.yml truncates long texts", async () => {
  const model = await loadModel(writeSumIdsModel(tempDir(), "  max_length: 8\n"));
  const calls: TensorMap[] = [];
  const run = model.runFeeds.bind(model);
  model.runFeeds = async (feeds, names) => {
    calls.push(feeds);
    return run(feeds, names);
  };
  await model.predict({ text: "word ".repeat(500) });
  assert.equal(calls[0]?.input_ids?.dims[1], 8);
  await model.dispose();
});

test("padding: max_length pads every text to max_length, with the same answers", async () => {
  const model = await loadModel(writeSumIdsModel(tempDir(), "  max_length: 16\n  padding: max_length\n"));
  const calls: TensorMap[] = [];
  const run = model.runFeeds.bind(model);
  model.runFeeds = async (feeds, names) => {
    calls.push(feeds);
    return run(feeds, names);
  };
  const padded = (await model.predict({ text: "short", top_k: 1 })) as Answer[];
  assert.equal(calls[0]?.input_ids?.dims[1], 16);
  const plain = await loadModel(writeSumIdsModel(tempDir()));
  assert.deepEqual(padded, await plain.predict({ text: "short", top_k: 1 }));
  await Promise.all([model.dispose(), plain.dispose()]);
});

test("gpux run --text uses the model's pipeline", async () => {
  const dir = writeSumIdsModel(tempDir());
  const result = await runCli(["run", dir, "--text", "hello world", "--json"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout).result.label, "high");
  const empty = await runCli(["run", dir, "--text", ""]);
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /'text' is empty/);
});
