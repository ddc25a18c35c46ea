import { errorMessage, RuntimeFailure, UserError } from "../util/errors.js";

// ONNX Runtime's wording when the inputs (not the model or the machine) are at fault.
const inputFault =
  /INVALID_ARGUMENT|invalid dimensions|out of bounds|out of range|index .* is out|shape mismatch/i;

/** Turn an ONNX Runtime `run` failure into a user error (bad input values, 400) or a runtime failure (500). */
export function classifyRunError(model: string, error: unknown): Error {
  const first = errorMessage(error).split("\n")[0] ?? "";
  if (inputFault.test(first)) {
    return new UserError(`Model '${model}' rejected the input: ${first}`, {
      hint: "Check input shapes and values against GET /info or `gpux inspect`.",
    });
  }
  return new RuntimeFailure(`Inference failed for model '${model}': ${first}`, { cause: error });
}
