import * as ort from "onnxruntime-node";
import { dtypeInfo } from "../onnx/dtypes.js";
import type { TensorSpec } from "../onnx/tensor-spec.js";
import { UserError } from "../util/errors.js";

/** A tensor of the spec's dtype filled with its zero value (0, false or ""). */
export function zerosTensor(spec: TensorSpec, shape: readonly number[]): ort.Tensor {
  const info = dtypeInfo(spec.dtype);
  if (!info) throw new UserError(`Input '${spec.name}': dtype ${spec.dtype} is not supported by gpux.`);
  const count = shape.reduce((product, dim) => product * dim, 1);
  const data = info.array ? new info.array(count) : new Array<string>(count).fill("");
  return new ort.Tensor(spec.dtype, data, shape);
}
