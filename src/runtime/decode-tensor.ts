import type * as ort from "onnxruntime-node";
import { type Dtype, dtypeInfo } from "../onnx/dtypes.js";
import { fromFloat16Bits } from "../onnx/float16.js";
import { RuntimeFailure } from "../util/errors.js";

/** A JSON-ready scalar: int64 beyond 2^53 is a string so no digit is lost. */
export type JsonScalar = number | string | boolean | null;

/** Flat JSON values of a tensor, in row-major order, with the declared dtype's meaning. */
export function tensorToFlatJson(tensor: ort.Tensor): JsonScalar[] {
  const info = dtypeInfo(tensor.type);
  if (!info) {
    throw new RuntimeFailure(`Output dtype ${tensor.type} is not supported by gpux.`, {
      hint: "Cast the output to a supported type in the model graph.",
    });
  }
  const data = tensor.data;
  const n = data.length;
  const out: JsonScalar[] = new Array(n);
  switch (info.json) {
    case "bigint":
      for (let i = 0; i < n; i++) {
        const v = data[i] as bigint;
        out[i] = v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v.toString();
      }
      return out;
    case "bool":
      for (let i = 0; i < n; i++) out[i] = Boolean(data[i]);
      return out;
    case "string":
      for (let i = 0; i < n; i++) out[i] = data[i] as string;
      return out;
    default:
      if (tensor.type === "float16" && !(data instanceof Float32Array)) {
        for (let i = 0; i < n; i++) out[i] = jsonNumber(fromFloat16Bits(data[i] as number));
      } else {
        for (let i = 0; i < n; i++) out[i] = jsonNumber(data[i] as number);
      }
      return out;
  }
}

/** JSON has no NaN or Infinity; spell them as strings (the same spelling the encoder accepts). */
function jsonNumber(value: number): number | string {
  if (Number.isFinite(value)) return value;
  if (Number.isNaN(value)) return "NaN";
  return value > 0 ? "Infinity" : "-Infinity";
}

/** Nest flat values into arrays of the given shape; a scalar for rank 0. */
export function nestArray<T>(flat: readonly T[], shape: readonly number[]): unknown {
  if (shape.length === 0) return flat[0];
  let offset = 0;
  const build = (depth: number): unknown[] => {
    const size = shape[depth] as number;
    const out: unknown[] = new Array(size);
    if (depth === shape.length - 1) {
      for (let i = 0; i < size; i++) out[i] = flat[offset++];
    } else {
      for (let i = 0; i < size; i++) out[i] = build(depth + 1);
    }
    return out;
  };
  return build(0);
}

/** A decoded output: nested arrays with the dtype and shape alongside. */
export interface DecodedTensor {
  dtype: Dtype;
  shape: number[];
  data: unknown;
}

/** One level of nesting read straight from a number tensor's data (plain function: see fill-numbers-fast.ts). */
function nestNumbers(data: Float32Array, shape: readonly number[], depth: number, offset: number): unknown[] {
  const size = shape[depth] as number;
  const out: unknown[] = new Array(size);
  if (depth === shape.length - 1) {
    for (let i = 0; i < size; i++) {
      const value = data[offset + i] as number;
      // v - v is 0 for every finite number and NaN for NaN and ±Infinity, which JSON spells as strings.
      out[i] = value - value === 0 ? value : jsonNumber(value);
    }
    return out;
  }
  let stride = 1;
  for (let d = depth + 1; d < shape.length; d++) stride *= shape[d] as number;
  for (let i = 0; i < size; i++) out[i] = nestNumbers(data, shape, depth + 1, offset + i * stride);
  return out;
}

/** Nested arrays from a tensor; numbers are read row by row, with no flat intermediate array. */
function nestedJson(tensor: ort.Tensor, shape: readonly number[]): unknown {
  const kind = dtypeInfo(tensor.type)?.json;
  const isHalfBits = tensor.type === "float16" && !(tensor.data instanceof Float32Array);
  if ((kind !== "float" && kind !== "integer") || isHalfBits || shape.length === 0) {
    return nestArray(tensorToFlatJson(tensor), shape);
  }
  return nestNumbers(tensor.data as Float32Array, shape, 0, 0);
}

export function decodeTensor(tensor: ort.Tensor): DecodedTensor {
  const shape = tensor.dims.map(Number);
  return { dtype: tensor.type as Dtype, shape, data: nestedJson(tensor, shape) };
}
