import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runCli } from "../helpers/cli.js";
import { buildOnnxModel } from "../helpers/onnx-builder.js";
import { spawnServe } from "../helpers/serve-process.js";
import { addOneSpec, call, writeModelFolder } from "../helpers/serving.js";
import { tempDir } from "../helpers/temp-dir.js";

test("a password inside HF_ENDPOINT is never printed", async () => {
  const result = await runCli(["pull", "org/name"], {
    env: { HF_ENDPOINT: "http://alice:s3cret-word@127.0.0.1:9", GPUX_HOME: tempDir(), HF_HOME: tempDir() },
  });
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /http:\/\/\*\*\*@127\.0\.0\.1:9/);
  assert.doesNotMatch(result.stderr + result.stdout, /s3cret-word/);
});

test("a YAML alias bomb in gpux.yml is a config error (exit 1), not a bug (exit 3)", async () => {
  const lines = [
    "name: bomb",
    "model:",
    "  source: model.onnx",
    'a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]',
  ];
  for (let i = 1; i < 9; i++) lines.push(`a${i}: &a${i} [${new Array(9).fill(`*a${i - 1}`).join(", ")}]`);
  const dir = writeModelFolder(tempDir(), "bomb", addOneSpec, `${lines.join("\n")}\n`);
  for (const command of [
    ["serve", "--port", "0", dir],
    ["run", dir, "--input", '{"x": [[1, 2, 3, 4]]}'],
  ]) {
    const result = await runCli(command);
    assert.equal(result.code, 1, `${command[0]}: ${result.stderr}`);
    assert.match(result.stderr, /too many YAML alias expansions/);
    assert.doesNotMatch(result.stderr, /bug in gpux/);
  }
});

test("a broken model exits alike under run and serve (1), an unsupported operator says so", async () => {
  const dir = tempDir();
  const broken = join(dir, "broken.onnx");
  writeFileSync(broken, Buffer.from("this is not a protobuf at all, just text"));
  const run = await runCli(["run", broken, "--input", '{"x": [1]}']);
  const serve = await runCli(["serve", "--port", "0", broken]);
  assert.equal(run.code, 1, run.stderr);
  assert.equal(serve.code, 1, serve.stderr);
  const unsupported = join(dir, "unsupported");
  mkdirSync(unsupported);
  writeFileSync(
    join(unsupported, "model.onnx"),
    buildOnnxModel({
      inputs: [{ name: "x", dtype: "float32", shape: [1] }],
      outputs: [{ name: "y", dtype: "float32", shape: [1] }],
      nodes: [{ op: "NoSuchOperator", inputs: ["x"], outputs: ["y"] }],
    }),
  );
  const result = await runCli(["run", unsupported, "--input", '{"x": [1]}']);
  assert.equal(result.code, 1);
  assert.match(
    result.stderr,
    /uses operator NoSuchOperator \(opset 17\), which ONNX Runtime [\d.]+ does not support/,
  );
  assert.doesNotMatch(result.stderr, /re-download/);
});

test("the API key from --api-key-file or GPUX_API_KEY, and --help says to prefer them over --api-key", async () => {
  const help = await runCli(["serve", "--help"]);
  assert.match(help.stdout, /--api-key-file <path>/);
  assert.match(
    help.stdout.replace(/\s+/g, " "),
    /visible in `ps`: prefer env GPUX_API_KEY or --api-key-file/,
  );
  const dir = tempDir();
  const keyFile = join(dir, "key");
  writeFileSync(keyFile, "file-key\n");
  const server = await spawnServe([writeModelFolder(dir, "add-one", addOneSpec), "--api-key-file", keyFile]);
  const body = { x: [[1, 2, 3, 4]] };
  assert.equal((await call(`${server.url}predict`, { body })).status, 401);
  const ok = await call(`${server.url}predict`, { body, headers: { authorization: "Bearer file-key" } });
  assert.equal(ok.status, 200);
});
