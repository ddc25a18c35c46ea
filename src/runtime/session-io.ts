import type * as ort from "onnxruntime-node";
import { isDtype } from "../onnx/dtypes.js";
import type { Dim, TensorSpec } from "../onnx/tensor-spec.js";
import { RuntimeFailure } from "../util/errors.js";

type ValueMetadata = ort.InferenceSession.ValueMetadata;

function toSpec(meta: ValueMetadata): TensorSpec {
  if (!meta.isTensor) {
    throw new RuntimeFailure(
      `Model value '${meta.name}' is not a tensor (sequence or map); gpux serves tensors only.`,
    );
  }
  if (!isDtype(meta.type)) {
    throw new RuntimeFailure(
      `Model value '${meta.name}' has element type ${meta.type}, which gpux does not support.`,
      {
        hint: "Supported: float32/16/64, int8/16/32/64, uint8/16/32/64, bool, string.",
      },
    );
  }
  const shape: Dim[] = meta.shape.map((dim) => (dim === "" ? null : dim));
  return { name: meta.name, dtype: meta.type, shape };
}

/** The model's declared inputs and outputs, read from the session (names, dtypes, symbolic dims). */
export function sessionSpecs(session: ort.InferenceSession): { inputs: TensorSpec[]; outputs: TensorSpec[] } {
  return { inputs: session.inputMetadata.map(toSpec), outputs: session.outputMetadata.map(toSpec) };
}
