import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import sharp from "sharp";
import { repoRoot, runCli } from "../helpers/cli.js";
import { loadModel } from "../helpers/load-model.js";
import { pipelineFixtures, readJson } from "../helpers/pipeline-fixtures.js";
import { requirePython } from "../helpers/python.js";

const modules = ["torch", "transformers", "tokenizers", "sentence_transformers", "PIL"];
type Scores = Array<{ label: string; score: number }>;
const example = join(repoRoot, "examples", "text-direction");
const sample = (name: string) => join(example, "samples", `${name}.png`);

function assertScores(actual: unknown, expected: Scores): void {
  const list = actual as Scores;
  assert.deepEqual(
    list.map((item) => item.label),
    expected.map((item) => item.label),
  );
  for (const [i, item] of list.entries()) {
    assert.ok(Math.abs(item.score - (expected[i] as Scores[number]).score) <= 1e-4);
  }
}

test("image-classification equals transformers' pipeline (exact resize; shortest edge + centre crop)", async (t) => {
  if (!requirePython(t, modules)) return;
  const dir = pipelineFixtures();
  const reference = readJson<
    Record<string, { images: string[]; results: Scores[]; image: string; result: Scores }>
  >(join(dir, "reference.json"));
  const model = await loadModel(join(dir, "image-classification"));
  const ref = reference["image-classification"];
  assert.ok(ref);
  const images = ref.images.map((name) => readFileSync(join(dir, name)).toString("base64"));
  for (const [i, image] of images.entries())
    assertScores(await model.predict({ image }), ref.results[i] as Scores);
  const batch = (await model.predict({ image: images.map((b) => `data:image/png;base64,${b}`) })) as Scores[];
  for (const [i, scores] of batch.entries()) assertScores(scores, ref.results[i] as Scores);
  await model.dispose();
  const crop = await loadModel(join(dir, "image-crop"));
  const cropRef = reference["image-crop"];
  assert.ok(cropRef);
  const image = readFileSync(join(dir, cropRef.image)).toString("base64");
  assertScores(await crop.predict({ image }), cropRef.result);
  await crop.dispose();
});

test("the text-direction example tells upright from upside-down text, grey or colour, any size", async () => {
  const model = await loadModel(example);
  const up = readFileSync(sample("upright"));
  const down = readFileSync(sample("upside-down"));
  const top = async (bytes: Buffer) =>
    ((await model.predict({ image: bytes.toString("base64") })) as Scores)[0]?.label;
  assert.equal(await top(up), "0");
  assert.equal(await top(down), "180");
  assert.equal(await top(await sharp(up).greyscale().png().toBuffer()), "0");
  assert.equal(await top(await sharp(down).resize({ width: 1200 }).jpeg().toBuffer()), "180");
  // Raw tensors still work on a model with a task.
  const raw = (await model.predict({
    x: [Array.from({ length: 3 }, () => Array.from({ length: 48 }, () => new Array(192).fill(0)))],
  })) as Record<string, number[][]>;
  assert.equal(raw["softmax_0.tmp_0"]?.[0]?.length, 2);
  await model.dispose();
});

test("gpux run --image answers labels and scores; a file path over HTTP is refused", async () => {
  const result = await runCli(["run", example, "--image", sample("upside-down"), "--json"]);
  assert.equal(result.code, 0, result.stderr);
  const answer = JSON.parse(result.stdout).result as Scores;
  assert.equal(answer[0]?.label, "180");
  assert.ok((answer[0]?.score ?? 0) > 0.9);
  const http = await loadModel(example, "http");
  await assert.rejects(http.predict({ image: sample("upright") }), /file path/);
  await http.dispose();
  const bad = await runCli(["run", example, "--image", join(example, "gpux.yml")]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /not an image gpux can decode/);
  assert.doesNotMatch(bad.stderr, /\n\s+at /, "no stack trace");
});
