import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runCli } from "../helpers/cli.js";
import { tempDir } from "../helpers/temp-dir.js";

test("a request of 100 KB passed in --input runs as it does from --file (no crash in ONNX Runtime)", async () => {
  // the getting-started request form: a flat tensor with its shape, for the bundled example model
  const request = JSON.stringify({ x: { data: Array(3 * 48 * 192).fill(0.5), shape: [1, 3, 48, 192] } });
  assert.ok(request.length > 100_000);
  const file = join(tempDir(), "request.json");
  writeFileSync(file, request);
  const fromFile = await runCli(["run", "examples/text-direction", "--file", file]);
  assert.equal(fromFile.code, 0, fromFile.stderr);
  const inline = await runCli(["run", "examples/text-direction", "--input", request]);
  assert.equal(inline.signal, null, "killed by a signal");
  assert.equal(inline.code, 0, inline.stderr);
  assert.deepEqual(JSON.parse(inline.stdout), JSON.parse(fromFile.stdout));
});
