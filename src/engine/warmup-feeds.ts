import * as ort from "onnxruntime-node";
import { dtypeInfo } from "../onnx/dtypes.js";
import type { TensorSpec } from "../onnx/tensor-spec.js";
import type { TensorMap } from "../pipeline/pipeline.js";

/** Zero-filled feeds of batch 1 (every open dimension 1), enough to make ONNX Runtime allocate and plan. */
export function warmupFeeds(inputs: readonly TensorSpec[]): TensorMap {
  const feeds: TensorMap = {};
  for (const spec of inputs) {
    const dims = (spec.shape ?? [1]).map((dim) => (typeof dim === "number" && dim >= 0 ? dim : 1));
    const size = dims.reduce((a, b) => a * b, 1);
    const info = dtypeInfo(spec.dtype);
    const data = info?.array ? new info.array(size) : new Array<string>(size).fill("");
    feeds[spec.name] = new ort.Tensor(spec.dtype, data, dims);
  }
  return feeds;
}
