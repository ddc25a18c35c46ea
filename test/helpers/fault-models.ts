/**
 * Graphs on which ONNX Runtime fails at run time, each the way a real model does with bad input (or with a
 * genuine failure), with a request that triggers it: the classifier is tested on ONNX Runtime's own messages.
 */
import type { ModelSpec } from "./onnx-builder.js";

export interface FaultModel {
  spec: ModelSpec;
  /** A raw-tensor request (gpux run -i / POST /predict) that makes the run fail. */
  request: Record<string, unknown>;
  /** The same as an OIP v2 infer body. */
  oip: { inputs: Array<{ name: string; shape: number[]; datatype: string; data: number[] }> };
}

/** An embedding lookup: a token id past the 4-row table, as with an id ≥ the vocabulary size. */
export const gatherOutOfRange: FaultModel = {
  spec: {
    inputs: [{ name: "ids", dtype: "int64", shape: ["batch", "sequence"] }],
    outputs: [{ name: "y", dtype: "float32", shape: ["batch", "sequence", 2] }],
    nodes: [{ op: "Gather", inputs: ["table", "ids"], outputs: ["y"] }],
    initializers: [{ name: "table", dtype: "float32", dims: [4, 2], values: [1, 2, 3, 4, 5, 6, 7, 8] }],
  },
  request: { ids: [[1, 9]] },
  oip: { inputs: [{ name: "ids", shape: [1, 2], datatype: "INT64", data: [1, 9] }] },
};

/** A Reshape to [2, 3]: five values cannot fill it. */
export const reshapeMismatch: FaultModel = {
  spec: {
    inputs: [{ name: "x", dtype: "float32", shape: ["n"] }],
    outputs: [{ name: "y", dtype: "float32", shape: [2, 3] }],
    nodes: [{ op: "Reshape", inputs: ["x", "shape"], outputs: ["y"] }],
    initializers: [{ name: "shape", dtype: "int64", dims: [2], values: [2, 3] }],
  },
  request: { x: [1, 2, 3, 4, 5] },
  oip: { inputs: [{ name: "x", shape: [5], datatype: "FP32", data: [1, 2, 3, 4, 5] }] },
};

/** An Expand to a shape the request gives: a negative size. */
export const expandNegative: FaultModel = {
  spec: {
    inputs: [
      { name: "x", dtype: "float32", shape: [1] },
      { name: "shape", dtype: "int64", shape: [1] },
    ],
    outputs: [{ name: "y", dtype: "float32", shape: ["n"] }],
    nodes: [{ op: "Expand", inputs: ["x", "shape"], outputs: ["y"] }],
  },
  request: { x: [1], shape: [-3] },
  oip: {
    inputs: [
      { name: "x", shape: [1], datatype: "FP32", data: [1] },
      { name: "shape", shape: [1], datatype: "INT64", data: [-3] },
    ],
  },
};

/** A genuine failure, not the input's fault: ONNX Runtime cannot allocate 4 PB. */
export const allocationFailure: FaultModel = {
  spec: {
    inputs: [{ name: "shape", dtype: "int64", shape: [2] }],
    outputs: [{ name: "y", dtype: "float32", shape: ["a", "b"] }],
    nodes: [{ op: "ConstantOfShape", inputs: ["shape"], outputs: ["y"] }],
  },
  request: { shape: [1048576, 1073741824] },
  oip: { inputs: [{ name: "shape", shape: [2], datatype: "INT64", data: [1048576, 1073741824] }] },
};

export const inputFaults = { gatherOutOfRange, reshapeMismatch, expandNegative };
