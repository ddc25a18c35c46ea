/**
 * The one table that maps each tensor element type between ONNX, ONNX Runtime's JS API, typed arrays,
 * JSON and the Open Inference Protocol. Every other file looks types up here instead of switching on them.
 */

import type { Tensor } from "onnxruntime-common";

/** The element types gpux handles: ONNX Runtime's own type names, less its 4-bit ones. */
export type Dtype = Exclude<Tensor.Type, "int4" | "uint4">;

/** What a tensor of numbers holds (ONNX Runtime's type): a typed array of the dtype's storage. */
export type NumericTensorData = Exclude<Tensor.DataType, string[]>;

export type OipDatatype =
  | "FP32"
  | "FP64"
  | "FP16"
  | "INT8"
  | "INT16"
  | "INT32"
  | "INT64"
  | "UINT8"
  | "UINT16"
  | "UINT32"
  | "UINT64"
  | "BOOL"
  | "BYTES";

/** How JSON values of a dtype are read and written. */
export type JsonKind = "float" | "integer" | "bigint" | "bool" | "string";

export type TypedArrayConstructor =
  | Float32ArrayConstructor
  | Float64ArrayConstructor
  | Int8ArrayConstructor
  | Int16ArrayConstructor
  | Int32ArrayConstructor
  | BigInt64ArrayConstructor
  | Uint8ArrayConstructor
  | Uint16ArrayConstructor
  | Uint32ArrayConstructor
  | BigUint64ArrayConstructor;

export interface DtypeInfo {
  dtype: Dtype;
  /** TensorProto.DataType number in the ONNX spec. */
  onnx: number;
  oip: OipDatatype;
  json: JsonKind;
  /** Storage handed to ONNX Runtime; float16 travels as raw bits in a Uint16Array, bool as bytes. */
  array: TypedArrayConstructor | undefined;
  bytesPerElement: number;
  /** Inclusive range for integer kinds. */
  min?: number | bigint;
  max?: number | bigint;
}

const table: readonly DtypeInfo[] = [
  { dtype: "float32", onnx: 1, oip: "FP32", json: "float", array: Float32Array, bytesPerElement: 4 },
  { dtype: "float64", onnx: 11, oip: "FP64", json: "float", array: Float64Array, bytesPerElement: 8 },
  { dtype: "float16", onnx: 10, oip: "FP16", json: "float", array: Uint16Array, bytesPerElement: 2 },
  {
    dtype: "int8",
    onnx: 3,
    oip: "INT8",
    json: "integer",
    array: Int8Array,
    bytesPerElement: 1,
    min: -128,
    max: 127,
  },
  {
    dtype: "int16",
    onnx: 5,
    oip: "INT16",
    json: "integer",
    array: Int16Array,
    bytesPerElement: 2,
    min: -32768,
    max: 32767,
  },
  {
    dtype: "int32",
    onnx: 6,
    oip: "INT32",
    json: "integer",
    array: Int32Array,
    bytesPerElement: 4,
    min: -2147483648,
    max: 2147483647,
  },
  {
    dtype: "int64",
    onnx: 7,
    oip: "INT64",
    json: "bigint",
    array: BigInt64Array,
    bytesPerElement: 8,
    min: -(2n ** 63n),
    max: 2n ** 63n - 1n,
  },
  {
    dtype: "uint8",
    onnx: 2,
    oip: "UINT8",
    json: "integer",
    array: Uint8Array,
    bytesPerElement: 1,
    min: 0,
    max: 255,
  },
  {
    dtype: "uint16",
    onnx: 4,
    oip: "UINT16",
    json: "integer",
    array: Uint16Array,
    bytesPerElement: 2,
    min: 0,
    max: 65535,
  },
  {
    dtype: "uint32",
    onnx: 12,
    oip: "UINT32",
    json: "integer",
    array: Uint32Array,
    bytesPerElement: 4,
    min: 0,
    max: 4294967295,
  },
  {
    dtype: "uint64",
    onnx: 13,
    oip: "UINT64",
    json: "bigint",
    array: BigUint64Array,
    bytesPerElement: 8,
    min: 0n,
    max: 2n ** 64n - 1n,
  },
  { dtype: "bool", onnx: 9, oip: "BOOL", json: "bool", array: Uint8Array, bytesPerElement: 1 },
  { dtype: "string", onnx: 8, oip: "BYTES", json: "string", array: undefined, bytesPerElement: 0 },
];

const byDtype = new Map(table.map((info) => [info.dtype, info]));
const byOnnx = new Map(table.map((info) => [info.onnx, info]));
const byOip = new Map(table.map((info) => [info.oip, info]));

/** Every dtype gpux handles, in table order. */
export const dtypes: readonly Dtype[] = table.map((info) => info.dtype);

export function isDtype(value: string): value is Dtype {
  return byDtype.has(value as Dtype);
}

/** Look up a dtype; undefined for element types gpux does not handle (bfloat16, complex, float8 …). */
export function dtypeInfo(dtype: string): DtypeInfo | undefined {
  return byDtype.get(dtype as Dtype);
}

export function dtypeFromOnnx(onnxType: number): DtypeInfo | undefined {
  return byOnnx.get(onnxType);
}

export function dtypeFromOip(datatype: string): DtypeInfo | undefined {
  return byOip.get(datatype as OipDatatype);
}

/** Aliases users write in gpux.yml (`float`, `int`, `long`, `double`, `fp16` …) mapped to dtypes. */
const aliases: Record<string, Dtype> = {
  float: "float32",
  double: "float64",
  half: "float16",
  fp16: "float16",
  fp32: "float32",
  fp64: "float64",
  int: "int32",
  long: "int64",
  boolean: "bool",
  str: "string",
  bytes: "string",
};

/** Normalise a user-written type name to a dtype, or undefined when it is not one. */
export function parseDtype(name: string): Dtype | undefined {
  const lower = name.toLowerCase().replace(/^tensor\((.*)\)$/, "$1");
  if (isDtype(lower)) return lower;
  return aliases[lower] ?? dtypeFromOip(name.toUpperCase())?.dtype;
}
