import { fields } from "./read-onnx-io.js";

/**
 * Field numbers of onnx.proto that can hold a TensorProto, by message. A tensor stored outside the file says
 * so in TensorProto.external_data (13): StringStringEntryProto key 1 / value 2, the `location` key naming the
 * file relative to the model's folder.
 */
const model = { graph: 7, functions: 25 };
const graph = { node: 1, initializer: 5, sparseInitializer: 15 };
const node = { attribute: 5 };
const functionProto = { node: 7 };
const attribute = { t: 5, g: 6, tensors: 10, graphs: 11, sparseTensor: 22, sparseTensors: 23 };
const sparseTensor = { values: 1, indices: 2 };
const tensorExternalData = 13;

const text = (value: Uint8Array) => Buffer.from(value).toString("utf8");

function tensorLocation(bytes: Uint8Array, found: Set<string>): void {
  fields(bytes, (field, entry) => {
    if (field !== tensorExternalData || typeof entry === "number") return;
    let key = "";
    let value = "";
    fields(entry, (entryField, part) => {
      if (typeof part === "number") return;
      if (entryField === 1) key = text(part);
      if (entryField === 2) value = text(part);
    });
    if (key === "location" && value) found.add(value);
  });
}

function sparseLocations(bytes: Uint8Array, found: Set<string>): void {
  fields(bytes, (field, tensor) => {
    if (typeof tensor === "number") return;
    if (field === sparseTensor.values || field === sparseTensor.indices) tensorLocation(tensor, found);
  });
}

function nodeLocations(bytes: Uint8Array, found: Set<string>): void {
  fields(bytes, (field, attr) => {
    if (field !== node.attribute || typeof attr === "number") return;
    fields(attr, (attrField, value) => {
      if (typeof value === "number") return;
      if (attrField === attribute.t || attrField === attribute.tensors) tensorLocation(value, found);
      else if (attrField === attribute.g || attrField === attribute.graphs) graphLocations(value, found);
      else if (attrField === attribute.sparseTensor || attrField === attribute.sparseTensors)
        sparseLocations(value, found);
    });
  });
}

function graphLocations(bytes: Uint8Array, found: Set<string>): void {
  fields(bytes, (field, value) => {
    if (typeof value === "number") return;
    if (field === graph.initializer) tensorLocation(value, found);
    else if (field === graph.sparseInitializer) sparseLocations(value, found);
    // Constant nodes and the subgraphs of If / Loop / Scan hold tensors too
    else if (field === graph.node) nodeLocations(value, found);
  });
}

/**
 * The files an ONNX model keeps its tensors in (external data), as the graph names them: paths relative to the
 * model's folder, each once, in the order first met. Empty for a model with every weight inside it. Throws
 * for bytes that are not an ONNX model (not protobuf, or no graph: an HTML page, a checkpoint).
 */
export function parseExternalDataLocations(bytes: Uint8Array): string[] {
  const found = new Set<string>();
  let hasGraph = false;
  fields(bytes, (field, value) => {
    if (typeof value === "number") return;
    if (field === model.graph) {
      hasGraph = true;
      graphLocations(value, found);
    } else if (field === model.functions)
      fields(value, (f, n) => f === functionProto.node && typeof n !== "number" && nodeLocations(n, found));
  });
  if (!hasGraph) throw new Error("no graph in it");
  return [...found];
}
