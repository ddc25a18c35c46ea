import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { runCli } from "../helpers/cli.js";
import { startFakeHub } from "../helpers/fake-hub.js";
import { tinyOnnxModel } from "../helpers/fake-hub-repos.js";
import { tempDir } from "../helpers/temp-dir.js";

// The ONNX Model Zoo's Hub repos (`onnxmodelzoo/<name>`): one root-level `<name>.onnx`, a model card, no
// config.json or tokenizer. The pull takes that file, writes gpux.yml from the graph, and the model runs.
const hub = await startFakeHub({
  repos: [
    {
      id: "onnxmodelzoo/add-8",
      files: {
        "add-8.onnx": tinyOnnxModel().model,
        "README.md": "---\nlicense: apache-2.0\nlibrary_name: onnx\n---\n\n# add-8\n\nA model zoo entry.\n",
        "test_data_set_0/input_0.pb": "not a model file",
      },
    },
  ],
});
after(() => hub.close());
const home = tempDir();
const env = { GPUX_HOME: join(home, "gpux"), HF_ENDPOINT: hub.url, HF_HUB_CACHE: join(home, "hf") };

test("a repo with only a root-level <name>.onnx pulls that file, gets a gpux.yml from its graph, and runs", async () => {
  const pull = await runCli(["pull", "onnxmodelzoo/add-8", "--json"], { env });
  assert.equal(pull.code, 0, pull.stderr);
  const result = JSON.parse(pull.stdout.trim().split("\n").pop() as string) as {
    path: string;
    files: Array<{ path: string }>;
    format: string;
  };
  assert.equal(result.format, "onnx");
  assert.ok(result.files.some((f) => f.path === "add-8.onnx"));
  assert.ok(
    !result.files.some((f) => f.path.startsWith("test_data_set")),
    "the zoo's test data is not fetched",
  );
  const yml = readFileSync(join(result.path, "gpux.yml"), "utf8");
  assert.match(yml, /model: add-8\.onnx|add-8\.onnx/);
  const run = await runCli(["run", "onnxmodelzoo/add-8", "--input", '{"x": [[1, 1, 1, 1]]}', "--json"], {
    env,
    cwd: home,
  });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /2,\s*3,\s*4,\s*5|\[2,3,4,5\]/);
});
