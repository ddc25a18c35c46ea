import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { repoRoot } from "../helpers/cli.js";
import { python, requirePython } from "../helpers/python.js";
import { tempDir } from "../helpers/temp-dir.js";

/**
 * Above 2 GB the TorchScript exporter writes each weight to a file of its own, named after it (seen here on a
 * 2.35 GB export: files `a`, `b`, `c` beside model.onnx); the bridge lists only model.onnx and model.onnx_data,
 * so those must end up in model.onnx_data. The same layout is made here at a small size with onnx's own
 * per-tensor external data.
 */
const script = `
import os, sys
import numpy as np, onnx, onnxruntime
from onnx import helper, numpy_helper, TensorProto
sys.path.insert(0, ${JSON.stringify(join(repoRoot, "python"))})
from gpux_bridge.external_data import externalize_weights
out = sys.argv[1]
a = numpy_helper.from_array(np.arange(4096, dtype=np.float32).reshape(1, 4096), "model.embed.weight")
b = numpy_helper.from_array(np.full((1, 4096), 0.5, dtype=np.float32), "onnx::Mul_7")
c = numpy_helper.from_array(np.float32([[2.0]]), "tiny")
graph = helper.make_graph(
    [helper.make_node("Add", ["x", "model.embed.weight"], ["s"]), helper.make_node("Mul", ["s", "onnx::Mul_7"], ["m"]),
     helper.make_node("Mul", ["m", "tiny"], ["y"])],
    "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4096])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4096])], [a, b, c])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
path = os.path.join(out, "model.onnx")
onnx.save_model(model, path, save_as_external_data=True, all_tensors_to_one_file=False, size_threshold=1024)
before = sorted(os.listdir(out))
print(externalize_weights(path, "model.onnx_data"))
print(",".join(before))
session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
y = session.run(None, {"x": np.ones((1, 4096), dtype=np.float32)})[0]
print(float(np.abs(y - (np.arange(4096) + 1) * 0.5 * 2.0).max()))
`;

test("weights the exporter wrote one file each are gathered into model.onnx_data, and their files removed", (t) => {
  if (!requirePython(t, ["onnx", "onnxruntime", "numpy"])) return;
  const out = tempDir();
  const ran = spawnSync(python, ["-c", script, out], { encoding: "utf8" });
  assert.equal(ran.status, 0, ran.stderr);
  const [data, before, diff] = ran.stdout.trim().split("\n");
  // onnx names each file after its tensor (sanitised); the tiny one stays inline
  assert.equal(before?.split(",").length, 3, before);
  assert.equal(data, "model.onnx_data");
  assert.deepEqual(readdirSync(out).sort(), ["model.onnx", "model.onnx_data"]);
  assert.equal(Number(diff), 0);
});
