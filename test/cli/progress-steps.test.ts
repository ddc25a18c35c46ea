import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ProgressBars } from "../../src/cli/progress-bars.js";
import { runCli } from "../helpers/cli.js";
import { addOne, writeModel } from "../helpers/models.js";
import { tempDir } from "../helpers/temp-dir.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("during a conversion the bars show the converter's current step and its clock", async () => {
  let written = "";
  const bars = new ProgressBars({ write: (text) => (written += text), columns: () => 80 });
  bars.emit({ phase: "download", file: "model.safetensors", bytes: 100, total: 100 });
  bars.emit({ phase: "download", bytes: 100, total: 100 });
  bars.emit({ phase: "convert", message: "pytorch: text-classification (from architectures)" });
  bars.emit({ phase: "export", message: "exporting text-classification with opset 17" });
  await sleep(1300);
  const frames = written.split("\x1b[J");
  const last = frames.at(-1) ?? "";
  assert.match(last, /^export: exporting text-classification with opset 17 \(1 s\)$/m);
  assert.match(last, /^model\.safetensors .* 100 B \/ 100 B$/m);
  // the convert line went above the bars once, not into the block
  assert.equal(written.split("convert: pytorch").length, 2);
  bars.stop();
  assert.doesNotMatch(written.split("\x1b[J").at(-1) ?? "", /export:/);
});

test("gpux run --benchmark says it is loading and warming up before the figures", async () => {
  const dir = tempDir();
  const model = writeModel(dir, "add.onnx", addOne);
  writeFileSync(join(dir, "request.json"), '{"x": [[1, 2, 3]]}');
  const result = await runCli(["run", model, "-f", join(dir, "request.json"), "--benchmark", "--runs", "3"]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /^loading add …$/m);
  assert.match(result.stderr, /^benchmarking on cpu: 10 warm-up runs, then 3 timed runs …$/m);
  const json = await runCli(["run", model, "-f", join(dir, "request.json"), "--benchmark", "--json"]);
  assert.equal(json.stderr, "");
});
