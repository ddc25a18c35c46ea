import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { runCli } from "../helpers/cli.js";
import { tinyOnnxModel } from "../helpers/fake-hub-repos.js";
import { hubLayoutFiles } from "../helpers/hub-layout-repo.js";
import { requirePython } from "../helpers/python.js";
import { tempDir } from "../helpers/temp-dir.js";
import { tinyTransformersDir } from "../helpers/tiny-transformers.js";

// `gpux pull ./model.onnx`, `file://…` and `gpux pull ./folder`: copied into the store, the source untouched.
const lastJson = (stdout: string) => JSON.parse(stdout.trim().split("\n").pop() as string);

/** Every file under `dir` with its size, mtime and sha256: what "untouched" compares. */
function fingerprint(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => {
      const path = join(e.parentPath, e.name);
      const stat = statSync(path);
      return `${path} ${stat.size} ${stat.mtimeMs} ${createHash("sha256").update(readFileSync(path)).digest("hex")}`;
    })
    .sort();
}

function writeFiles(dir: string, files: Record<string, Uint8Array | string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

test("a local .onnx with external data is copied (by path and by file:// URL) and runs; the source is untouched", async () => {
  const home = tempDir();
  const env = { GPUX_HOME: join(home, "gpux") };
  const source = join(home, "downloads");
  const { model, data } = tinyOnnxModel({ externalData: "add.weights" });
  writeFiles(source, { "add.onnx": model, "add.weights": data as Uint8Array, "unrelated.txt": "x" });
  const before = fingerprint(source);

  const byPath = await runCli(["pull", "./downloads/add.onnx", "--name", "local/add", "--json"], {
    env,
    cwd: home,
  });
  assert.equal(byPath.code, 0, byPath.stderr);
  const result = lastJson(byPath.stdout);
  assert.deepEqual(
    result.files.map((f: { path: string }) => f.path),
    ["add.onnx", "add.weights"],
  );
  assert.ok(!result.path.startsWith(source));
  const run = await runCli(["run", "local/add", "--input", '{"x": [[0, 0, 0, 0]]}', "--json"], {
    env,
    cwd: home,
  });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /\[1,\s*2,\s*3,\s*4\]/);

  const byUrl = await runCli(["pull", pathToFileURL(join(source, "add.onnx")).href, "--json"], {
    env,
    cwd: home,
  });
  assert.equal(byUrl.code, 0, byUrl.stderr);
  assert.equal(lastJson(byUrl.stdout).name, "add", "the name comes from the file without --name");

  // the store holds copies: removing them leaves the source as it was
  assert.equal((await runCli(["rm", "local/add", "--purge"], { env })).code, 0);
  assert.equal((await runCli(["rm", "add", "--purge"], { env })).code, 0);
  assert.deepEqual(fingerprint(source), before, "the source files are untouched");
});

test("a model folder is imported like a Hub repo of that layout (gpux.yml with its task and labels)", async () => {
  const home = tempDir();
  const env = { GPUX_HOME: join(home, "gpux") };
  const folder = join(home, "my-classifier");
  writeFiles(folder, { ...hubLayoutFiles(), "notes/scratch.bin": "not part of the model" });
  const before = fingerprint(folder);
  const pull = await runCli(["pull", "./my-classifier", "--json"], { env, cwd: home });
  assert.equal(pull.code, 0, pull.stderr);
  const result = lastJson(pull.stdout);
  assert.equal(result.name, "my-classifier");
  assert.equal(result.task, "text-classification");
  const paths = result.files.map((f: { path: string }) => f.path);
  assert.ok(paths.includes("onnx/model.onnx") && paths.includes("tokenizer.json"), paths.join(", "));
  assert.ok(!paths.includes("notes/scratch.bin"), "only the files the model needs are copied");
  const run = await runCli(["run", "my-classifier", "--input", '{"text": "hello"}', "--json"], {
    env,
    cwd: home,
  });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /HIGH|LOW/);
  assert.deepEqual(fingerprint(folder), before);
});

test("a checkpoint folder (config.json + safetensors) is copied, then converted to ONNX as a Hub pull would", async (t) => {
  if (!requirePython(t, ["torch", "transformers", "onnx", "onnxruntime"])) return;
  const home = tempDir();
  const env = { GPUX_HOME: join(home, "gpux"), HF_HUB_CACHE: join(home, "hf") };
  const folder = join(home, "tiny-sst2");
  cpSync(join(tinyTransformersDir(), "distilbert-sst2"), folder, { recursive: true });
  rmSync(join(folder, "reference.json"));
  const before = fingerprint(folder);
  const pull = await runCli(
    ["pull", "./tiny-sst2", "--name", "me/sst2", "--task", "text-classification", "--json"],
    {
      env,
      cwd: home,
    },
  );
  assert.equal(pull.code, 0, pull.stderr);
  const result = lastJson(pull.stdout);
  assert.equal(result.format, "safetensors");
  assert.equal(result.task, "text-classification");
  const run = await runCli(["run", "me/sst2", "--text", "a fine film", "--json"], { env, cwd: home });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /"label"/);
  assert.deepEqual(
    fingerprint(folder),
    before,
    "conversion reads the copy; the folder gets no .gpux or onnx/",
  );
});

test("local errors: a missing path, a file that is not ONNX, a folder with no model, --sha256 on a folder", async () => {
  const home = tempDir();
  const env = { GPUX_HOME: join(home, "gpux") };
  writeFiles(home, { "empty/readme.txt": "nothing", "fake.onnx": "not protobuf {", "w.safetensors": "x" });
  const cases: Array<[string[], number, RegExp]> = [
    [["./nope.onnx"], 2, /nope\.onnx does not exist/],
    [["./fake.onnx"], 1, /fake\.onnx is not an ONNX model/],
    [["./empty"], 2, /holds no ONNX model and no checkpoint/],
    [["./empty", "--sha256", "a".repeat(64)], 1, /--sha256 checks a single file/],
    [["./w.safetensors", "--name", "w"], 1, /is a single file, but not an \.onnx model/],
  ];
  for (const [args, code, message] of cases) {
    const pull = await runCli(["pull", ...args], { env, cwd: home });
    assert.equal(pull.code, code, `${args.join(" ")}: ${pull.stderr}`);
    assert.match(pull.stderr, message, args.join(" "));
  }
  assert.deepEqual(JSON.parse((await runCli(["ls", "--json"], { env })).stdout).models, []);
});
