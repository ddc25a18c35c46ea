import * as ort from "onnxruntime-node";
import { type DtypeInfo, dtypeInfo, type NumericTensorData } from "../onnx/dtypes.js";
import { toFloat16Bits } from "../onnx/float16.js";
import { type Dim, formatShape, isDynamicDim, type TensorSpec } from "../onnx/tensor-spec.js";
import { UserError } from "../util/errors.js";
import { fillNumbersFast } from "./fill-numbers-fast.js";

/** A tensor given as flat data plus an explicit shape: `{"data": [...], "shape": [2, 3]}`. */
export interface ExplicitTensor {
  data: unknown[];
  shape: number[];
}

function isExplicitTensor(value: unknown): value is ExplicitTensor {
  return typeof value === "object" && value !== null && !Array.isArray(value) && "data" in value;
}

/**
 * Deepest nesting read from a request when the model does not fix the input's rank. Nesting is walked
 * recursively, so a bound keeps 10 000 levels of `[[[…]]]` from overflowing the stack.
 */
export const maxTensorRank = 32;

function rankLimit(spec: TensorSpec): number {
  return spec.shape?.length ?? maxTensorRank;
}

function tooDeep(spec: TensorSpec, what: string): UserError {
  const limit = rankLimit(spec);
  return new UserError(
    `Input '${spec.name}': ${what} is nested deeper than ${spec.shape ? `the model's rank ${limit} (shape ${formatShape(spec.shape)})` : `${limit} levels`}.`,
    { hint: "Send nested arrays with one level per dimension of the input (see `gpux inspect`)." },
  );
}

/** The shape implied by the first element at each level, reading no deeper than the input's rank allows. */
function inferShape(spec: TensorSpec, value: unknown): number[] {
  const limit = rankLimit(spec);
  const shape: number[] = [];
  let level: unknown = value;
  while (Array.isArray(level)) {
    if (shape.length === limit) throw tooDeep(spec, "the value");
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0];
  }
  return shape;
}

/**
 * True when every array above the last level has the length the shape says. Checked before allocating, so
 * the element count is backed by arrays that exist: a first row of 70 000 over 70 000 short rows is refused
 * instead of allocating 4.9e9 elements. Reads only the rows, not their values (cheap next to the fill).
 */
function rowLengthsMatch(node: unknown, depth: number, shape: readonly number[]): boolean {
  if (!Array.isArray(node) || node.length !== shape[depth]) return false;
  if (depth === shape.length - 1) return true;
  for (let i = 0; i < node.length; i++) if (!rowLengthsMatch(node[i], depth + 1, shape)) return false;
  return true;
}

function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const dim of shape) count *= dim;
  return count;
}

/** Where nested arrays first stop matching the shape, as an error naming the element (only on failure). */
function raggedError(name: string, value: unknown, shape: readonly number[]): UserError {
  const find = (node: unknown, depth: number, path: string): UserError | undefined => {
    if (depth === shape.length) {
      return Array.isArray(node)
        ? new UserError(
            `Input '${name}': ragged array, element ${path} has more dimensions than the first one.`,
            { hint: "Every row must have the same length and depth." },
          )
        : undefined;
    }
    if (!Array.isArray(node) || node.length !== shape[depth]) {
      const got = Array.isArray(node) ? `length ${node.length}` : "a scalar";
      return new UserError(
        `Input '${name}': ragged array, element ${path || "[]"} has ${got} where ${shape[depth]} was expected.`,
        { hint: "Every row must have the same length and depth." },
      );
    }
    for (let i = 0; i < node.length; i++) {
      const error = find(node[i], depth + 1, `${path}[${i}]`);
      if (error) return error;
    }
    return undefined;
  };
  return find(value, 0, "") ?? new UserError(`Input '${name}': ragged array.`);
}

/** Copy nested arrays into `out` from `index`; the next index, or -1 where they stop matching the shape. */
function flattenInto(
  node: unknown,
  depth: number,
  shape: readonly number[],
  out: unknown[],
  index: number,
): number {
  if (!Array.isArray(node) || node.length !== shape[depth]) return -1;
  if (depth === shape.length - 1) {
    for (let i = 0; i < node.length; i++) {
      const item = node[i];
      if (Array.isArray(item)) return -1;
      out[index + i] = item;
    }
    return index + node.length;
  }
  let next = index;
  for (let i = 0; i < node.length; i++) {
    next = flattenInto(node[i], depth + 1, shape, out, next);
    if (next < 0) return -1;
  }
  return next;
}

/** Flatten nested arrays that must form the given shape; throws on ragged input (located by raggedError). */
function flatten(name: string, value: unknown, shape: readonly number[]): unknown[] {
  const out: unknown[] = new Array(elementCount(shape));
  if (shape.length === 0) {
    if (Array.isArray(value)) throw raggedError(name, value, shape);
    out[0] = value;
    return out;
  }
  if (flattenInto(value, 0, shape, out, 0) < 0) throw raggedError(name, value, shape);
  return out;
}

/**
 * The shape against the model's: rank, fixed dimensions, and no empty dimension where the graph does not fix
 * one at 0 (a zero-element input can abort ONNX Runtime inside some kernels, taking the process with it).
 */
function checkShape(spec: TensorSpec, shape: readonly number[]): void {
  const empty = shape.indexOf(0);
  if (empty >= 0 && spec.shape?.[empty] !== 0) {
    throw new UserError(
      `Input '${spec.name}': dimension ${empty} of shape ${formatShape(shape)} is 0; the model does not declare an empty dimension there.`,
      { hint: "Send at least one element along every dimension." },
    );
  }
  if (!spec.shape) {
    if (shape.length > maxTensorRank) throw tooDeep(spec, "the shape");
    return;
  }
  const expected = spec.shape;
  const mismatch =
    expected.length !== shape.length ||
    expected.some((dim: Dim, i) => !isDynamicDim(dim) && dim !== shape[i]);
  if (mismatch) {
    throw new UserError(
      `Input '${spec.name}': expected ${spec.dtype} with shape ${formatShape(expected)} (rank ${expected.length}), received shape ${formatShape(shape)} (rank ${shape.length}).`,
      { hint: "Send nested arrays matching the model's input shape (see `gpux inspect`)." },
    );
  }
}

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 20 ? `${value.slice(0, 20)}…` : value);
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array (nested deeper than the shape)";
  return typeof value === "object" ? typeof value : String(value);
}

function badValue(spec: TensorSpec, value: unknown, at: number, expected: string): UserError {
  return new UserError(
    `Input '${spec.name}': element ${at} is ${describe(value)}, expected ${expected} for dtype ${spec.dtype}.`,
    { hint: `Send ${expected} values for '${spec.name}'.` },
  );
}

function toBigInt(spec: TensorSpec, info: DtypeInfo, value: unknown, at: number): bigint {
  let result: bigint;
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw badValue(spec, value, at, "an integer");
    if (!Number.isSafeInteger(value)) {
      throw new UserError(
        `Input '${spec.name}': element ${at} (${value}) is beyond 2^53 and has lost precision as a JSON number.`,
        { hint: 'Send integers beyond 2^53 as strings, e.g. "9007199254740993".' },
      );
    }
    result = BigInt(value);
  } else if (typeof value === "string" && /^-?\d+$/.test(value.trim())) {
    result = BigInt(value.trim());
  } else if (typeof value === "bigint") {
    result = value;
  } else {
    throw badValue(spec, value, at, "an integer (number or numeric string)");
  }
  if (result < (info.min as bigint) || result > (info.max as bigint)) {
    throw badValue(spec, value, at, `an integer in [${info.min}, ${info.max}]`);
  }
  return result;
}

function fillData(spec: TensorSpec, info: DtypeInfo, flat: readonly unknown[]): ort.Tensor["data"] {
  const n = flat.length;
  switch (info.json) {
    case "string": {
      const out: string[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        if (typeof v !== "string") throw badValue(spec, v, i, "a string");
        checkString(spec, v, i);
        out[i] = v;
      }
      return out;
    }
    case "bool": {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        if (v === true || v === 1) out[i] = 1;
        else if (v !== false && v !== 0) throw badValue(spec, v, i, "true/false (or 1/0)");
      }
      return out;
    }
    case "bigint": {
      const out = new (info.array as BigInt64ArrayConstructor | BigUint64ArrayConstructor)(n);
      for (let i = 0; i < n; i++) out[i] = toBigInt(spec, info, flat[i], i);
      return out;
    }
    case "integer": {
      const out = new (info.array as Int32ArrayConstructor)(n);
      const min = info.min as number;
      const max = info.max as number;
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        if (typeof v !== "number" || !Number.isInteger(v)) throw badValue(spec, v, i, "an integer");
        if (v < min || v > max) throw badValue(spec, v, i, `an integer in [${min}, ${max}]`);
        out[i] = v;
      }
      return out;
    }
    case "float": {
      const half = spec.dtype === "float16";
      const out = new (info.array as Float32ArrayConstructor)(n);
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        const num = typeof v === "number" ? v : parseSpecialFloat(v);
        if (num === undefined) throw badValue(spec, v, i, "a number");
        out[i] = half ? toFloat16Bits(num) : num;
      }
      return out;
    }
  }
}

/** A lone UTF-16 surrogate: JSON allows `"\ud800"`, UTF-8 cannot hold it (it would become U+FFFD). */
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Strings reach ONNX Runtime as NUL-terminated UTF-8: refuse what would not come back unchanged. */
function checkString(spec: TensorSpec, value: string, at: number): void {
  const problem = value.includes("\0")
    ? "holds U+0000 (NUL), where ONNX Runtime would cut the string"
    : loneSurrogate.test(value)
      ? "holds a lone UTF-16 surrogate, which UTF-8 cannot carry"
      : undefined;
  if (problem) {
    throw new UserError(`Input '${spec.name}': string element ${at} ${problem}.`, {
      hint: "Send strings of valid Unicode without NUL characters (binary data as base64, for example).",
    });
  }
}

/** JSON cannot carry NaN or ±Infinity; accept them spelled as strings. */
function parseSpecialFloat(value: unknown): number | undefined {
  if (value === "NaN") return Number.NaN;
  if (value === "Infinity" || value === "inf") return Number.POSITIVE_INFINITY;
  if (value === "-Infinity" || value === "-inf") return Number.NEGATIVE_INFINITY;
  return undefined;
}

function supportedDtype(spec: TensorSpec): DtypeInfo {
  const info = dtypeInfo(spec.dtype);
  if (!info) throw new UserError(`Input '${spec.name}': dtype ${spec.dtype} is not supported by gpux.`);
  return info;
}

function tensorFromFlat(spec: TensorSpec, flat: readonly unknown[], shape: readonly number[]): ort.Tensor {
  if (elementCount(shape) !== flat.length) {
    throw new UserError(
      `Input '${spec.name}': shape ${formatShape(shape)} needs ${elementCount(shape)} values, received ${flat.length}.`,
      {
        hint: "Send as many values as the shape's dimensions multiply to, flat or nested one level per dimension.",
      },
    );
  }
  return new ort.Tensor(spec.dtype, fillData(spec, supportedDtype(spec), flat), shape);
}

/**
 * Build an ONNX Runtime tensor from data given with an explicit shape, flat or nested up to one level per
 * dimension, casting each value to the spec's dtype. The shape is checked against the model before the data
 * is flattened (never deeper than the shape) or anything is allocated.
 */
export function encodeFlatTensor(
  spec: TensorSpec,
  data: readonly unknown[],
  shape: readonly number[],
): ort.Tensor {
  supportedDtype(spec);
  if (shape.some((dim) => !Number.isInteger(dim) || dim < 0)) {
    throw new UserError(`Input '${spec.name}': shape ${formatShape(shape)} must hold non-negative integers.`);
  }
  checkShape(spec, shape);
  return tensorFromFlat(spec, shape.length > 1 ? data.flat(shape.length - 1) : data, shape);
}

/**
 * Build an ONNX Runtime tensor from a typed array already in the dtype's storage (binary request bodies), with
 * the same shape checks as JSON data. The caller has checked that `data` holds as many elements as `shape`.
 */
export function encodeTypedTensor(
  spec: TensorSpec,
  data: NumericTensorData,
  shape: readonly number[],
): ort.Tensor {
  supportedDtype(spec);
  checkShape(spec, shape);
  return new ort.Tensor(spec.dtype, data, shape);
}

/** Build an ONNX Runtime tensor from JSON: nested arrays, a scalar, or `{data, shape}`. */
export function encodeTensor(spec: TensorSpec, value: unknown): ort.Tensor {
  if (isExplicitTensor(value)) {
    const { data, shape } = value;
    if (!Array.isArray(data) || !Array.isArray(shape)) {
      throw new UserError(`Input '${spec.name}': "data" and "shape" must both be arrays.`, {
        hint: 'Use {"data": [1, 2, 3, 4], "shape": [2, 2]} or nested arrays.',
      });
    }
    return encodeFlatTensor(spec, data, shape);
  }
  const info = supportedDtype(spec);
  const shape = inferShape(spec, value);
  checkShape(spec, shape);
  if (shape.length > 0 && !rowLengthsMatch(value, 0, shape)) throw raggedError(spec.name, value, shape);
  const fast = fillNumbersFast(info, value, shape);
  if (fast) return new ort.Tensor(spec.dtype, fast, shape);
  return tensorFromFlat(spec, flatten(spec.name, value, shape), shape);
}
