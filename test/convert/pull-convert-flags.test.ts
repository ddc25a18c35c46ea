import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { parse } from "yaml";
import { runCli } from "../helpers/cli.js";
import { type FakeRepo, startFakeHub } from "../helpers/fake-hub.js";
import { onnxRepo, repoFromFolder } from "../helpers/fake-hub-repos.js";
import { missingPythonModules, requirePython } from "../helpers/python.js";
import { tempDir } from "../helpers/temp-dir.js";
import { tinyReference, tinyTransformersDir } from "../helpers/tiny-transformers.js";

const modules = ["torch", "transformers", "onnx", "onnxruntime", "sentence_transformers"];
const fixtures = missingPythonModules(modules) ? undefined : tinyTransformersDir();

const repos: FakeRepo[] = [onnxRepo("org/Ready")];
if (fixtures) {
  const dir = join(fixtures, "bert-sst2");
  const repo = repoFromFolder(dir, "tiny/bert-sst2", { pipelineTag: tinyReference(dir).pipeline_tag });
  delete repo.files["reference.json"];
  repos.push(repo);
}
const hub = await startFakeHub({ repos });
after(() => hub.close());

const env = (home: string): NodeJS.ProcessEnv => ({
  HF_ENDPOINT: hub.url,
  HF_HUB_CACHE: join(home, "hf", "hub"),
  HF_TOKEN: "",
  GPUX_HOME: join(home, "gpux"),
});

const storeModels = (home: string) =>
  existsSync(join(home, "gpux", "models")) ? readdirSync(join(home, "gpux", "models")) : [];

const bad: Array<[string[], RegExp]> = [
  [["--opset", "0"], /--opset must be a whole number ≥ 1, got '0'/],
  [["--opset", "17.5"], /--opset must be a whole number ≥ 1, got '17\.5'/],
  [["--opset", ""], /--opset must be a whole number ≥ 1/],
  [["--atol", "-1"], /--atol must be a number ≥ 0, got '-1'/],
  [["--atol", "tiny"], /--atol must be a number ≥ 0, got 'tiny'/],
  [["--task", "summarization"], /--task 'summarization' cannot be exported/],
];

test("bad conversion flags on gpux pull: exit 1 before any request, nothing registered", async () => {
  for (const [flags, message] of bad) {
    const home = tempDir();
    hub.resetStats();
    const result = await runCli(["pull", "org/Ready", ...flags], { env: env(home) });
    assert.equal(result.code, 1, `${flags.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.match(result.stderr, /\nhint: /);
    assert.deepEqual(hub.stats.requests, [], `${flags.join(" ")} reached the hub`);
    assert.deepEqual(storeModels(home), [], `${flags.join(" ")} registered something`);
  }
});

test("gpux convert rejects the same values with the same messages", async () => {
  const folder = tempDir();
  for (const [flags, message] of bad) {
    const result = await runCli(["convert", folder, ...flags]);
    assert.equal(result.code, 1, `${flags.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, message);
  }
});

test("valid conversion flags on a repo that ships ONNX: pulled as it is, under its own store key", async () => {
  const home = tempDir();
  const result = await runCli(["pull", "org/Ready", "--opset", "18", "--atol", "0.001", "--json"], {
    env: env(home),
  });
  assert.equal(result.code, 0, result.stderr);
  const { path } = JSON.parse(result.stdout.trim().split("\n").pop() as string) as { path: string };
  const manifest = JSON.parse(readFileSync(join(path, "manifest.json"), "utf8"));
  assert.equal(manifest.conversion.converter, "passthrough");
  assert.deepEqual(manifest.options, { atol: 0.001, opset: 18 });
});

test("gpux pull --task exports that head and records the task in the manifest and gpux.yml", async (t) => {
  if (!requirePython(t, modules)) return;
  const home = tempDir();
  // the repo is a sequence classifier (pipeline_tag text-classification); --task asks for the encoder output
  const result = await runCli(["pull", "tiny/bert-sst2", "--task", "feature-extraction", "--json"], {
    env: env(home),
  });
  assert.equal(result.code, 0, result.stderr);
  const { path, task } = JSON.parse(result.stdout.trim().split("\n").pop() as string) as {
    path: string;
    task: string;
  };
  assert.equal(task, "feature-extraction");
  const manifest = JSON.parse(readFileSync(join(path, "manifest.json"), "utf8"));
  assert.equal(manifest.task, "feature-extraction");
  assert.deepEqual(manifest.options, { task: "feature-extraction" });
  assert.equal(manifest.conversion.task, "feature-extraction");
  assert.equal(manifest.conversion.taskSource, "--task");
  const config = parse(readFileSync(join(path, "gpux.yml"), "utf8")) as {
    task: string;
    outputs: Array<{ name: string }>;
  };
  assert.equal(config.task, "feature-extraction");
  assert.ok(
    config.outputs.some((o) => o.name === "last_hidden_state"),
    JSON.stringify(config.outputs),
  );
});
