/** Small real ONNX models the CLI tests run, written into a test's temp folder. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildOnnxModel, type ModelSpec } from "./onnx-builder.js";

export function writeModel(dir: string, file: string, spec: ModelSpec): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, file);
  writeFileSync(path, buildOnnxModel(spec));
  return path;
}

/** y = x + 1 on float32 [batch, 3]. */
export const addOne: ModelSpec = {
  inputs: [{ name: "x", dtype: "float32", shape: ["batch", 3] }],
  outputs: [{ name: "y", dtype: "float32", shape: ["batch", 3] }],
  nodes: [{ op: "Add", inputs: ["x", "one"], outputs: ["y"] }],
  initializers: [{ name: "one", dtype: "float32", dims: [1], values: [1] }],
  metadata: { author: "gpux-tests" },
};

/** sum = ids + mask on int64 [batch, sequence]: two inputs sharing symbolic dims. */
export const addPair: ModelSpec = {
  inputs: [
    { name: "ids", dtype: "int64", shape: ["batch", "sequence"] },
    { name: "mask", dtype: "int64", shape: ["batch", "sequence"] },
  ],
  outputs: [{ name: "sum", dtype: "int64", shape: ["batch", "sequence"] }],
  nodes: [{ op: "Add", inputs: ["ids", "mask"], outputs: ["sum"] }],
};

/** Seconds of matrix products on a [size, size] tensor built inside the graph from a scalar input. */
export function slowModel(size: number, products: number): ModelSpec {
  const nodes: ModelSpec["nodes"] = [
    { op: "ConstantOfShape", inputs: ["shape"], outputs: ["zeros"] },
    { op: "Add", inputs: ["zeros", "x"], outputs: ["m0"] },
  ];
  for (let i = 0; i < products; i++)
    nodes.push({ op: "MatMul", inputs: [`m${i}`, "m0"], outputs: [`m${i + 1}`] });
  nodes.push({ op: "ReduceSum", inputs: [`m${products}`], outputs: ["y"], attributes: { keepdims: 0 } });
  return {
    inputs: [{ name: "x", dtype: "float32", shape: [1] }],
    outputs: [{ name: "y", dtype: "float32", shape: [] }],
    nodes,
    initializers: [{ name: "shape", dtype: "int64", dims: [2], values: [size, size] }],
  };
}
