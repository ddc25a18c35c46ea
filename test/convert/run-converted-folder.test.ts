import assert from "node:assert/strict";
import { cpSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runCli } from "../helpers/cli.js";
import { requirePython } from "../helpers/python.js";
import { tempDir } from "../helpers/temp-dir.js";
import { tinyTransformersDir } from "../helpers/tiny-transformers.js";

test("`gpux run FOLDER` after `gpux convert FOLDER` runs the converted model with the folder's tokenizer and the exported task", async (t) => {
  if (!requirePython(t, ["torch", "transformers", "onnx", "onnxruntime"])) return;
  const repo = join(tempDir(), "my-checkpoint");
  cpSync(join(tinyTransformersDir(), "distilbert-sst2"), repo, { recursive: true });
  const before = await runCli(["run", repo, "--text", "I love this"]);
  assert.equal(before.code, 2, "a checkpoint alone does not run");

  // a classifier's checkpoint exported for embeddings: the task comes from the conversion, not config.json
  const converted = await runCli(["convert", repo, "--task", "feature-extraction"]);
  assert.equal(converted.code, 0, converted.stderr);
  assert.match(converted.stdout, new RegExp(`^run it: gpux run ${repo} --text "I love this!"$`, "m"));
  const run = await runCli(["run", repo, "--text", "I love this"]);
  assert.equal(run.code, 0, run.stderr);
  const answer = JSON.parse(run.stdout) as Record<string, unknown>;
  assert.ok(Array.isArray(answer.embedding) && answer.embedding.length > 0, run.stdout);
});

test("`gpux pull ./folder` then the `gpux run folder` it suggests, typed next to the folder, runs the pulled model", async (t) => {
  if (!requirePython(t, ["torch", "transformers", "onnx", "onnxruntime"])) return;
  const root = tempDir();
  cpSync(join(tinyTransformersDir(), "distilbert-sst2"), join(root, "my-checkpoint"), { recursive: true });
  const env = { GPUX_HOME: join(root, "gpux") };
  const pulled = await runCli(["pull", "./my-checkpoint"], { cwd: root, env });
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.match(pulled.stdout, /^run it: gpux run my-checkpoint --text "I love this!"$/m);
  const run = await runCli(["run", "my-checkpoint", "--text", "I love this"], { cwd: root, env });
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(Object.keys(JSON.parse(run.stdout)).sort(), ["label", "score"]);
});
