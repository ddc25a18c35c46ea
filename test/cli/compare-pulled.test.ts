import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { repoRoot, runCli } from "../helpers/cli.js";
import { startFakeHub } from "../helpers/fake-hub.js";
import { repoFromFolder } from "../helpers/fake-hub-repos.js";
import { generatedFixtureDir } from "../helpers/generated-fixture.js";
import { requirePython } from "../helpers/python.js";
import { tempDir } from "../helpers/temp-dir.js";

test("`compare org/model --variant fp32 org/model --variant q8` takes each variant's store entry", async (t) => {
  if (!requirePython(t, ["torch", "transformers", "onnxruntime.quantization"])) return;
  const repo = generatedFixtureDir(
    "compare-models",
    join(repoRoot, "test", "fixtures", "make_compare_models.py"),
  );
  const classifier = join(repo, "classifier-a");
  const hub = await startFakeHub({
    repos: [repoFromFolder(classifier, "org/classifier", { pipelineTag: "text-classification" })],
  });
  after(() => hub.close());
  const home = tempDir();
  const env = {
    HF_ENDPOINT: hub.url,
    HF_HOME: join(home, "hf"),
    HF_HUB_CACHE: join(home, "hf", "hub"),
    HF_TOKEN: "",
    GPUX_HOME: join(home, "gpux"),
  };
  for (const args of [["org/classifier"], ["org/classifier", "--variant", "q8"]]) {
    const pulled = await runCli(["pull", ...args], { env });
    assert.equal(pulled.code, 0, pulled.stderr);
  }
  const models = ["org/classifier", "--variant", "fp32", "org/classifier", "--variant", "q8"];
  const compared = await runCli(
    ["compare", ...models, "--text", "w1 w2 w3", "--runs", "5", "--warmup", "1", "--json"],
    { env },
  );
  assert.equal(compared.code, 0, compared.stderr);
  const report = JSON.parse(compared.stdout) as { models: Array<{ variant: string; size_bytes: number }> };
  // each entry holds one graph: the fp32 entry model.onnx, the q8 entry model_quantized.onnx
  assert.deepEqual(
    report.models.map((m) => [m.variant, m.size_bytes]),
    [
      ["fp32", statSync(join(classifier, "onnx", "model.onnx")).size],
      ["q8", statSync(join(classifier, "onnx", "model_quantized.onnx")).size],
    ],
  );

  const missing = await runCli(
    ["compare", "org/classifier", "org/classifier", "--variant", "fp16", "--text", "w1"],
    { env },
  );
  assert.equal(missing.code, 2, missing.stderr);
  assert.match(missing.stderr, /'org\/classifier' is pulled as variant fp32, q8, not 'fp16'/);
  assert.match(missing.stderr, /hint: Run `gpux pull org\/classifier --variant fp16` first/);
});
