import type { Dtype } from "./dtypes.js";

/** A dimension: a fixed size, or a symbolic name (`batch`, `sequence`) / null when the model leaves it open. */
export type Dim = number | string | null;

/** What a model declares for one input or output. */
export interface TensorSpec {
  name: string;
  dtype: Dtype;
  /** Undefined when the model declares no shape at all (any rank). */
  shape?: Dim[];
}

/** Render a shape as users write it: `[batch, 3, 224, 224]`. */
export function formatShape(shape: readonly Dim[] | undefined): string {
  if (!shape) return "[any]";
  return `[${shape.map((dim) => (dim === null || dim === "" ? "?" : String(dim))).join(", ")}]`;
}

export function isDynamicDim(dim: Dim): boolean {
  return typeof dim !== "number" || dim < 0;
}
