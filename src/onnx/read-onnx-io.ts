import { readFile } from "node:fs/promises";
import { UserError } from "../util/errors.js";
import { dtypeFromOnnx } from "./dtypes.js";
import { Reader } from "./read-onnx-metadata.js";
import type { Dim, TensorSpec } from "./tensor-spec.js";

/** Visit each (field, reader-for-its-bytes | varint) of a protobuf message. */
export function fields(bytes: Uint8Array, visit: (field: number, value: Uint8Array | number) => void): void {
  const reader = new Reader(bytes);
  while (!reader.done) {
    const tag = reader.varint();
    const wire = tag & 7;
    const field = Math.floor(tag / 8);
    if (wire === 2) visit(field, reader.bytesField());
    else if (wire === 0) visit(field, reader.varint());
    else reader.skip(wire);
  }
}

const text = (value: Uint8Array | number) =>
  typeof value === "number" ? "" : Buffer.from(value).toString("utf8");

/** ValueInfoProto (name 1, type 2) → TensorSpec; TypeProto.tensor_type 1 → elem_type 1, shape 2 → dim 1. */
function valueInfo(bytes: Uint8Array): TensorSpec | undefined {
  let name = "";
  let elemType = 0;
  let shape: Dim[] | undefined;
  fields(bytes, (field, value) => {
    if (field === 1) name = text(value);
    if (field !== 2 || typeof value === "number") return;
    fields(value, (typeField, tensor) => {
      if (typeField !== 1 || typeof tensor === "number") return;
      fields(tensor, (tensorField, part) => {
        if (tensorField === 1 && typeof part === "number") elemType = part;
        if (tensorField !== 2 || typeof part === "number") return;
        shape = [];
        fields(part, (shapeField, dim) => {
          if (shapeField !== 1 || typeof dim === "number") return;
          let value: Dim = null;
          fields(dim, (dimField, v) => {
            if (dimField === 1 && typeof v === "number") value = v;
            if (dimField === 2) value = text(v) || null;
          });
          shape?.push(value);
        });
      });
    });
  });
  const dtype = dtypeFromOnnx(elemType)?.dtype;
  return dtype ? { name, dtype, shape } : undefined;
}

/**
 * The graph's declared inputs and outputs, read from the protobuf without opening a session (fast on large
 * models; weights are skipped, not parsed). Inputs that are initializers (old exporters) are left out.
 */
export function parseOnnxIo(bytes: Uint8Array): { inputs: TensorSpec[]; outputs: TensorSpec[] } {
  const inputs: TensorSpec[] = [];
  const outputs: TensorSpec[] = [];
  const initializers = new Set<string>();
  fields(bytes, (field, graph) => {
    if (field !== 7 || typeof graph === "number") return;
    fields(graph, (graphField, value) => {
      if (typeof value === "number") return;
      if (graphField === 5) fields(value, (f, v) => f === 8 && initializers.add(text(v)));
      const spec = graphField === 11 || graphField === 12 ? valueInfo(value) : undefined;
      if (spec) (graphField === 11 ? inputs : outputs).push(spec);
    });
  });
  return { inputs: inputs.filter((spec) => !initializers.has(spec.name)), outputs };
}

export async function readOnnxIo(path: string): Promise<{ inputs: TensorSpec[]; outputs: TensorSpec[] }> {
  try {
    return parseOnnxIo(await readFile(path));
  } catch (error) {
    throw new UserError(`'${path}' is not a valid ONNX model (${(error as Error).message}).`, {
      hint: "Check that the file is a complete .onnx file (re-download or re-export it).",
      cause: error,
    });
  }
}
