/**
 * Build small ONNX models in tests with the ONNX protobuf schema (onnx-proto), so the runtime is exercised on
 * real graphs whose expected outputs the tests compute independently.
 */
import onnxProto from "onnx-proto";
import { type Dtype, dtypeInfo } from "../../src/onnx/dtypes.js";

const { onnx } = onnxProto;

export interface ValueSpec {
  name: string;
  dtype: Dtype;
  /** Numbers are fixed dims; strings are symbolic (dynamic) dims. Omit for "any shape". */
  shape?: Array<number | string>;
}

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, number | number[] | string>;
  domain?: string;
}

export interface InitializerSpec {
  name: string;
  dtype: Dtype;
  dims: number[];
  /** float32 / int64 values. */
  values: number[];
}

export interface ModelSpec {
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  nodes: NodeSpec[];
  initializers?: InitializerSpec[];
  opset?: number;
  producer?: string;
  metadata?: Record<string, string>;
}

function valueInfo(spec: ValueSpec) {
  const info = dtypeInfo(spec.dtype);
  if (!info) throw new Error(`unknown dtype ${spec.dtype}`);
  return onnx.ValueInfoProto.create({
    name: spec.name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({
        elemType: info.onnx,
        shape: spec.shape
          ? onnx.TensorShapeProto.create({
              dim: spec.shape.map((d) =>
                typeof d === "number"
                  ? onnx.TensorShapeProto.Dimension.create({ dimValue: d })
                  : onnx.TensorShapeProto.Dimension.create({ dimParam: d }),
              ),
            })
          : undefined,
      }),
    }),
  });
}

function attribute(name: string, value: number | number[] | string) {
  const { AttributeType } = onnx.AttributeProto;
  if (typeof value === "string") {
    return onnx.AttributeProto.create({
      name,
      type: AttributeType.STRING,
      s: new TextEncoder().encode(value),
    });
  }
  if (Array.isArray(value))
    return onnx.AttributeProto.create({ name, type: AttributeType.INTS, ints: value });
  if (Number.isInteger(value)) return onnx.AttributeProto.create({ name, type: AttributeType.INT, i: value });
  return onnx.AttributeProto.create({ name, type: AttributeType.FLOAT, f: value });
}

function initializer(spec: InitializerSpec) {
  const info = dtypeInfo(spec.dtype);
  if (!info) throw new Error(`unknown dtype ${spec.dtype}`);
  const base = { name: spec.name, dims: spec.dims, dataType: info.onnx };
  if (spec.dtype === "int64") return onnx.TensorProto.create({ ...base, int64Data: spec.values });
  if (spec.dtype === "float32") return onnx.TensorProto.create({ ...base, floatData: spec.values });
  throw new Error(`initializer dtype ${spec.dtype} not supported by the test builder`);
}

/** Encode a model to ONNX bytes. */
export function buildOnnxModel(spec: ModelSpec): Uint8Array {
  const graph = onnx.GraphProto.create({
    name: "test_graph",
    node: spec.nodes.map((node, i) =>
      onnx.NodeProto.create({
        name: `${node.op}_${i}`,
        opType: node.op,
        domain: node.domain ?? "",
        input: node.inputs,
        output: node.outputs,
        attribute: Object.entries(node.attributes ?? {}).map(([name, value]) => attribute(name, value)),
      }),
    ),
    input: spec.inputs.map(valueInfo),
    output: spec.outputs.map(valueInfo),
    initializer: (spec.initializers ?? []).map(initializer),
  });
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: spec.producer ?? "gpux-tests",
    producerVersion: "1",
    opsetImport: [onnx.OperatorSetIdProto.create({ domain: "", version: spec.opset ?? 17 })],
    graph,
    metadataProps: Object.entries(spec.metadata ?? {}).map(([key, value]) =>
      onnx.StringStringEntryProto.create({ key, value }),
    ),
  });
  return onnx.ModelProto.encode(model).finish();
}
