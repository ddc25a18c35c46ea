import type { DtypeInfo } from "./dtypes.js";

type NumberArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint16Array
  | Uint32Array;

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
  const out = new (info.array as Float32ArrayConstructor)(count) as NumberArray;
  const integer = info.json === "integer";
  const min = integer ? (info.min as number) : Number.NEGATIVE_INFINITY;
  const max = integer ? (info.max as number) : Number.POSITIVE_INFINITY;
  const last = shape.length - 1;
  let index = 0;
  const rowIsValid = integer
    ? (row: unknown[]) => {
        for (let i = 0; i < row.length; i++) {
          const v = row[i];
          if (typeof v !== "number" || !(v >= min && v <= max) || Math.floor(v) !== v) return false;
        }
        return true;
      }
    : (row: unknown[]) => {
        for (let i = 0; i < row.length; i++) if (typeof row[i] !== "number") return false;
        return true;
      };
  const walk = (node: unknown, depth: number): boolean => {
    if (!Array.isArray(node) || node.length !== shape[depth]) return false;
    if (depth === last) {
      if (!rowIsValid(node)) return false;
      // TypedArray.set converts a row of numbers natively, several times faster than a JS loop of stores.
      out.set(node as number[], index);
      index += node.length;
      return true;
    }
    for (let i = 0; i < node.length; i++) if (!walk(node[i], depth + 1)) return false;
    return true;
  };
  return walk(value, 0) ? out : undefined;
}
