import * as ort from "onnxruntime-node";
import { type DtypeInfo, dtypeInfo } from "../onnx/dtypes.js";
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

function inferShape(value: unknown): number[] {
  const shape: number[] = [];
  let level: unknown = value;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0];
  }
  return shape;
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

function checkShape(spec: TensorSpec, shape: readonly number[]): void {
  if (!spec.shape) return;
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

/** JSON cannot carry NaN or ±Infinity; accept them spelled as strings. */
function parseSpecialFloat(value: unknown): number | undefined {
  if (value === "NaN") return Number.NaN;
  if (value === "Infinity" || value === "inf") return Number.POSITIVE_INFINITY;
  if (value === "-Infinity" || value === "-inf") return Number.NEGATIVE_INFINITY;
  return undefined;
}

/** Build an ONNX Runtime tensor from flat values and a shape, casting each value to the spec's dtype. */
export function encodeFlatTensor(
  spec: TensorSpec,
  flat: readonly unknown[],
  shape: readonly number[],
): ort.Tensor {
  const info = dtypeInfo(spec.dtype);
  if (!info) throw new UserError(`Input '${spec.name}': dtype ${spec.dtype} is not supported by gpux.`);
  if (shape.some((dim) => !Number.isInteger(dim) || dim < 0)) {
    throw new UserError(`Input '${spec.name}': shape ${formatShape(shape)} must hold non-negative integers.`);
  }
  if (elementCount(shape) !== flat.length) {
    throw new UserError(
      `Input '${spec.name}': shape ${formatShape(shape)} needs ${elementCount(shape)} values, received ${flat.length}.`,
    );
  }
  checkShape(spec, shape);
  return new ort.Tensor(spec.dtype, fillData(spec, info, flat), shape);
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
    return encodeFlatTensor(spec, data.flat(Number.POSITIVE_INFINITY), shape);
  }
  const shape = inferShape(value);
  const info = dtypeInfo(spec.dtype);
  const fast = info ? fillNumbersFast(info, value, shape) : undefined;
  if (fast) {
    checkShape(spec, shape);
    return new ort.Tensor(spec.dtype, fast, shape);
  }
  return encodeFlatTensor(spec, flatten(spec.name, value, shape), shape);
}
