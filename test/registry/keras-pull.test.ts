import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { selectFiles } from "../../src/registry/select-files.js";
import { runCli } from "../helpers/cli.js";
import { startFakeHub } from "../helpers/fake-hub.js";
import { repoFromFolder } from "../helpers/fake-hub-repos.js";
import { kerasModelNames, kerasModelsDir } from "../helpers/keras-models.js";
import { requirePython } from "../helpers/python.js";
import { tempDir } from "../helpers/temp-dir.js";
import { maxAbsDiff } from "../helpers/tiny-transformers.js";

test("select-files takes one Keras file when a repo has no ONNX model and no PyTorch weights", () => {
  const pick = (paths: string[]) => {
    const { format, files } = selectFiles(paths);
    return { format, files: files.filter((f) => f !== "README.md" && f !== "config.json") };
  };
  assert.deepEqual(pick(["model.keras", "README.md", "config.json"]), {
    format: "keras",
    files: ["model.keras"],
  });
  assert.deepEqual(pick(["model.h5", "README.md"]), { format: "keras", files: ["model.h5"] });
  // one file, the first .keras before any .h5, so the converter has no choice to make
  assert.deepEqual(pick(["b.keras", "a.h5", "a.keras"]), { format: "keras", files: ["a.keras"] });
  // Keras before transformers' TensorFlow checkpoint: it converts without tf2onnx
  assert.deepEqual(pick(["tf_model.h5", "model.h5"]), { format: "keras", files: ["model.h5"] });
  assert.deepEqual(pick(["tf_model.h5", "config.json"]), { format: "tensorflow", files: ["tf_model.h5"] });
  // weights without the model, or a file below the root, is no Keras model
  assert.deepEqual(pick(["model.weights.h5", "config.json"]), { format: "none", files: [] });
  assert.deepEqual(pick(["keras/model.keras"]), { format: "none", files: [] });
  // an ONNX model or PyTorch weights win
  assert.equal(pick(["onnx/model.onnx", "model.keras"]).format, "onnx");
  assert.deepEqual(pick(["model.safetensors", "model.keras"]), {
    format: "safetensors",
    files: ["model.safetensors"],
  });
  assert.equal(pick(["pytorch_model.bin", "model.h5"]).format, "pytorch");
});

// Keras 3 on torch, as the bridge runs it: no TensorFlow is imported (this machine has none)
process.env.KERAS_BACKEND = "torch";
const modules = ["keras", "torch", "onnx", "onnxruntime"];
const hub = await startFakeHub({ repos: [] });
after(() => hub.close());

for (const name of kerasModelNames) {
  test(`gpux pull of a Hub repo holding only a Keras model (${name}) converts it; its answers match Keras`, async (t) => {
    if (!requirePython(t, modules)) return;
    const folder = join(kerasModelsDir(), name);
    const repo = repoFromFolder(folder, `keras-io/${name}`);
    delete repo.files["reference.json"];
    repo.files["README.md"] = "# A Keras model\n";
    hub.addRepo(repo);
    const home = tempDir();
    const env = {
      HF_ENDPOINT: hub.url,
      HF_HOME: join(home, "hf"),
      HF_HUB_CACHE: join(home, "hf", "hub"),
      HF_TOKEN: "",
      GPUX_HOME: join(home, "gpux"),
    };
    const pulled = await runCli(["pull", repo.id], { env });
    assert.equal(pulled.code, 0, pulled.stderr);

    const reference = JSON.parse(readFileSync(join(folder, "reference.json"), "utf8"));
    const ran = await runCli(["run", repo.id, "--input", JSON.stringify(reference.inputs)], {
      env,
      cwd: home,
    });
    assert.equal(ran.code, 0, ran.stderr);
    const diff = maxAbsDiff(
      (JSON.parse(ran.stdout) as { scores: number[][] }).scores,
      reference.outputs.scores,
    );
    assert.ok(diff <= 1e-5, `max abs diff ${diff}`);
  });
}
