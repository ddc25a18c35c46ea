import type * as ort from "onnxruntime-node";
import { dtypeFromOip, dtypeInfo } from "../onnx/dtypes.js";
import type { TensorSpec } from "../onnx/tensor-spec.js";
import type { TensorMap } from "../pipeline/pipeline.js";
import { type JsonScalar, tensorToFlatJson } from "../runtime/decode-tensor.js";
import { encodeFlatTensor } from "../runtime/encode-tensor.js";
import { UserError } from "../util/errors.js";

export type OipParameters = Record<string, string | number | boolean>;

/** One tensor in an Open Inference Protocol v2 request or response (JSON form). */
export interface OipTensor {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
  parameters?: OipParameters;
}

export interface OipInferRequest {
  id?: string;
  parameters?: OipParameters;
  inputs: OipTensor[];
  outputs?: Array<{ name: string; parameters?: OipParameters }>;
}

function rejectBinary(where: string, parameters: OipParameters | undefined): void {
  if (parameters?.binary_data === true || parameters?.binary_data_size !== undefined) {
    throw new UserError(`${where}: the binary tensor data extension is not supported.`, {
      hint: "Send tensor data as JSON arrays in `data`.",
    });
  }
}

/** OIP request inputs → feeds, checked against the model's inputs (names, datatypes, shapes, values). */
export function decodeOipInputs(request: OipInferRequest, specs: readonly TensorSpec[]): TensorMap {
  const byName = new Map(specs.map((spec) => [spec.name, spec]));
  const feeds: TensorMap = {};
  for (const input of request.inputs) {
    const spec = byName.get(input.name);
    if (!spec) {
      throw new UserError(
        `Unknown input '${input.name}'; the model's inputs are ${specs.map((s) => `'${s.name}'`).join(", ")}.`,
        {
          hint: "GET /v2/models/{model} lists inputs with datatypes and shapes.",
        },
      );
    }
    if (feeds[input.name]) throw new UserError(`Input '${input.name}' is given twice.`);
    if (!dtypeFromOip(input.datatype)) {
      throw new UserError(`Input '${input.name}': unknown datatype '${input.datatype}'.`, {
        hint: "Use one of BOOL, UINT8…UINT64, INT8…INT64, FP16, FP32, FP64, BYTES.",
      });
    }
    const expected = dtypeInfo(spec.dtype)?.oip;
    if (input.datatype !== expected) {
      throw new UserError(
        `Input '${input.name}' has datatype ${expected} in the model; the request says ${input.datatype}.`,
      );
    }
    rejectBinary(`Input '${input.name}'`, input.parameters);
    feeds[input.name] = encodeFlatTensor(spec, input.data, input.shape);
  }
  const missing = specs.filter((spec) => !feeds[spec.name]).map((spec) => `'${spec.name}'`);
  if (missing.length > 0)
    throw new UserError(`Missing input ${missing.join(", ")}.`, { hint: "Every model input must be sent." });
  return feeds;
}

/** The output names to answer with: those the request asks for (checked), else all. */
export function selectOutputs(request: OipInferRequest, specs: readonly TensorSpec[]): string[] {
  if (!request.outputs || request.outputs.length === 0) return specs.map((spec) => spec.name);
  const known = new Set(specs.map((spec) => spec.name));
  return request.outputs.map((output) => {
    if (!known.has(output.name)) {
      throw new UserError(
        `Unknown output '${output.name}'; the model's outputs are ${[...known].map((k) => `'${k}'`).join(", ")}.`,
      );
    }
    rejectBinary(`Output '${output.name}'`, output.parameters);
    return output.name;
  });
}

/** Outputs → OIP response tensors with flat row-major data. */
export function encodeOipOutputs(outputs: TensorMap, names: readonly string[]): OipTensor[] {
  return names.map((name) => {
    const tensor = outputs[name] as ort.Tensor;
    const data: JsonScalar[] = tensorToFlatJson(tensor);
    return {
      name,
      datatype: dtypeInfo(tensor.type)?.oip ?? tensor.type,
      shape: tensor.dims.map(Number),
      data,
    };
  });
}

/** A model's tensor spec as OIP metadata: open dimensions are -1. */
export function oipMetadataTensor(spec: TensorSpec): { name: string; datatype: string; shape: number[] } {
  return {
    name: spec.name,
    datatype: dtypeInfo(spec.dtype)?.oip ?? spec.dtype,
    shape: (spec.shape ?? [-1]).map((dim) => (typeof dim === "number" && dim >= 0 ? dim : -1)),
  };
}
