// The inference half of bench/floor/minimal-server.mjs: one ONNX Runtime session, one batch at a time.
import { parentPort, workerData } from "node:worker_threads";
import * as ort from "onnxruntime-node";

const session = await ort.InferenceSession.create(workerData.modelPath, {
  executionProviders: ["cpu"],
  graphOptimizationLevel: "all",
});
parentPort.on("message", async ({ id, feeds }) => {
  const tensors = {};
  for (const [name, { data, dims }] of Object.entries(feeds))
    tensors[name] = new ort.Tensor("int64", data, dims);
  const start = performance.now();
  const outputs = await session.run(tensors);
  const logits = outputs[session.outputNames[0]];
  parentPort.postMessage({ id, data: logits.data, dims: logits.dims, computeMs: performance.now() - start });
});
parentPort.postMessage({ ready: true });
