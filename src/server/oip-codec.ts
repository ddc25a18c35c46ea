import type * as ort from "onnxruntime-node";
import { dtypeFromOip, dtypeInfo } from "../onnx/dtypes.js";
import type { TensorSpec } from "../onnx/tensor-spec.js";
import type { TensorMap } from "../pipeline/pipeline.js";
import { tensorToFlatJson } from "../runtime/decode-tensor.js";
import { encodeFlatTensor } from "../runtime/encode-tensor.js";
import { UserError } from "../util/errors.js";
import { decodeBinaryTensor, encodeBinaryTensor } from "./oip-binary.js";

export type OipParameters = Record<string, string | number | boolean>;

/** One tensor in an Open Inference Protocol v2 request or response (JSON form). */
export interface OipTensor {
  name: string;
  shape: number[];
  datatype: string;
  /** Absent when the tensor's bytes follow the JSON instead (`parameters.binary_data_size`). */
  data?: unknown[];
  parameters?: OipParameters;
}

const binaryLayoutHint =
  "After the JSON header come the binary inputs' bytes, in the order of `inputs`, each exactly its binary_data_size.";

export interface OipInferRequest {
  id?: string;
  parameters?: OipParameters;
  inputs: OipTensor[];
  outputs?: Array<{ name: string; parameters?: OipParameters }>;
}

/** An input's `binary_data_size`: where its data is in a binary request (undefined: in `data` as JSON). */
function binaryDataSize(input: OipTensor, binary: Uint8Array | undefined): number | undefined {
  const size = input.parameters?.binary_data_size;
  if (size === undefined) {
    if (input.data === undefined) {
      throw new UserError(`Input '${input.name}' has no data.`, {
        hint: "Send its values in `data`, or its bytes after the JSON with parameters.binary_data_size (Triton's binary extension).",
      });
    }
    return undefined;
  }
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) {
    throw new UserError(
      `Input '${input.name}': binary_data_size is ${JSON.stringify(size)}, not a byte count.`,
      { hint: binaryLayoutHint },
    );
  }
  if (input.data !== undefined) {
    throw new UserError(`Input '${input.name}' has both \`data\` and binary_data_size.`, {
      hint: "Send its values either as JSON in `data` or as bytes after the JSON header, not both.",
    });
  }
  if (!binary) {
    throw new UserError(`Input '${input.name}' says binary_data_size, but the request has no binary data.`, {
      hint: "Send the JSON followed by the tensors' bytes, with an Inference-Header-Content-Length header giving the JSON's length.",
    });
  }
  return size;
}

/** OIP request inputs → feeds, checked against the model's inputs (names, datatypes, shapes, values). */
export function decodeOipInputs(
  request: OipInferRequest,
  specs: readonly TensorSpec[],
  /** The bytes after the JSON header of a binary request, read in the order of the inputs that have some. */
  binary?: Uint8Array,
): TensorMap {
  const byName = new Map(specs.map((spec) => [spec.name, spec]));
  const feeds: TensorMap = {};
  let offset = 0;
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
    const size = binaryDataSize(input, binary);
    if (size === undefined) {
      feeds[input.name] = encodeFlatTensor(spec, input.data as unknown[], input.shape);
      continue;
    }
    const bytes = (binary as Uint8Array).subarray(offset, offset + size);
    if (bytes.length < size) {
      throw new UserError(
        `Input '${input.name}': binary_data_size ${size} goes past the binary data (${(binary as Uint8Array).length - offset} bytes left).`,
        { hint: binaryLayoutHint },
      );
    }
    offset += size;
    feeds[input.name] = decodeBinaryTensor(spec, input.shape, bytes);
  }
  if (binary && offset !== binary.length) {
    throw new UserError(
      `The body holds ${binary.length} bytes after the JSON header; the inputs' binary_data_size add up to ${offset}.`,
      { hint: binaryLayoutHint },
    );
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
    return output.name;
  });
}

function tensorHead(name: string, tensor: ort.Tensor): Pick<OipTensor, "name" | "datatype" | "shape"> {
  return { name, datatype: dtypeInfo(tensor.type)?.oip ?? tensor.type, shape: tensor.dims.map(Number) };
}

/** A boolean parameter of the binary extension, checked (a string "true" is refused, not read as true). */
function flag(where: string, parameters: OipParameters | undefined, key: string): boolean | undefined {
  const value = parameters?.[key];
  if (value === undefined || typeof value === "boolean") return value;
  throw new UserError(`${where}: ${key} is ${JSON.stringify(value)}, not true or false.`, {
    hint: `Send "${key}": true for binary, false (or nothing) for JSON.`,
  });
}

/**
 * Which outputs answer as binary: an output's own `binary_data`, else the request's `binary_data_output`
 * (Triton's rule); none unless asked.
 */
export function binaryOutputNames(request: OipInferRequest, names: readonly string[]): Set<string> {
  const all = flag("The request", request.parameters, "binary_data_output") ?? false;
  const own = new Map(
    (request.outputs ?? []).map((o) => [o.name, flag(`Output '${o.name}'`, o.parameters, "binary_data")]),
  );
  return new Set(names.filter((name) => own.get(name) ?? all));
}

/**
 * Outputs → OIP response tensors with flat row-major data, those named in `binary` as bytes instead: these
 * carry `binary_data_size` in place of `data`, and their bytes (`parts`, in output order) follow the JSON.
 */
export function encodeOipOutputs(
  outputs: TensorMap,
  names: readonly string[],
  binary: ReadonlySet<string> = new Set(),
): { tensors: OipTensor[]; parts: Buffer[] } {
  const parts: Buffer[] = [];
  const tensors = names.map((name): OipTensor => {
    const tensor = outputs[name] as ort.Tensor;
    if (!binary.has(name)) return { ...tensorHead(name, tensor), data: tensorToFlatJson(tensor) };
    const bytes = encodeBinaryTensor(tensor);
    parts.push(bytes);
    return { ...tensorHead(name, tensor), parameters: { binary_data_size: bytes.length } };
  });
  return { tensors, parts };
}

/** A model's tensor spec as OIP metadata: open dimensions are -1. */
export function oipMetadataTensor(spec: TensorSpec): { name: string; datatype: string; shape: number[] } {
  return {
    name: spec.name,
    datatype: dtypeInfo(spec.dtype)?.oip ?? spec.dtype,
    shape: (spec.shape ?? [-1]).map((dim) => (typeof dim === "number" && dim >= 0 ? dim : -1)),
  };
}
