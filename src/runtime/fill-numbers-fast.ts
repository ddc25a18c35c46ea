import type { DtypeInfo } from "../onnx/dtypes.js";
import { type PooledArray as NumberArray, takeBuffer } from "./buffer-pool.js";

/** Integer bounds of the row being filled; `undefined` for floats. */
interface Bounds {
  min: number;
  max: number;
}

// Plain functions with explicit arguments, not closures over the output and index: V8 runs this loop
// several times faster that way (measured with bench/run-overhead.ts).

function fillRow(row: unknown[], out: NumberArray, index: number, bounds: Bounds | undefined): number {
  for (let i = 0; i < row.length; i++) {
    const v = row[i];
    if (typeof v !== "number") return -1;
    if (bounds && !(v >= bounds.min && v <= bounds.max && Math.floor(v) === v)) return -1;
    out[index + i] = v;
  }
  return index + row.length;
}

function fillNested(
  node: unknown,
  depth: number,
  shape: readonly number[],
  out: NumberArray,
  index: number,
  bounds: Bounds | undefined,
): number {
  if (!Array.isArray(node) || node.length !== shape[depth]) return -1;
  if (depth === shape.length - 1) return fillRow(node, out, index, bounds);
  let next = index;
  for (let i = 0; i < node.length; i++) {
    next = fillNested(node[i], depth + 1, shape, out, next, bounds);
    if (next < 0) return -1;
  }
  return next;
}

/**
 * The hot path of encoding: nested arrays of plain JSON numbers written straight into a typed array, in one
 * pass, for float32/64 and the integer types up to 32 bits. Returns undefined at the first thing it does not
 * handle (a ragged row, a string, a float for an integer type, a value out of range, float16, int64, bool);
 * the caller then takes the general path, which says exactly what is wrong.
 */
export function fillNumbersFast(
  info: DtypeInfo,
  value: unknown,
  shape: readonly number[],
): NumberArray | undefined {
  if (!(info.json === "float" || info.json === "integer") || info.dtype === "float16" || shape.length === 0) {
    return undefined;
  }
  let count = 1;
  for (const dim of shape) count *= dim;
  const out = takeBuffer(info.array as Float32ArrayConstructor, count) as NumberArray;
  const bounds = info.json === "integer" ? { min: info.min as number, max: info.max as number } : undefined;
  return fillNested(value, 0, shape, out, 0, bounds) < 0 ? undefined : out;
}
