import { errorMessage, RuntimeFailure, UserError } from "../util/errors.js";
import { log } from "../util/log.js";

/**
 * ONNX Runtime's wording when the request's values or shapes (not the model or the machine) are at fault,
 * each as ONNX Runtime 1.2x words it (test/runtime/classify-run-error.test.ts produces every one on a real
 * session), with the advice that fits.
 */
const inputFaults: Array<{ pattern: RegExp; hint: string }> = [
  {
    // Gather: a token id at or above the vocabulary size, a class index past the table
    pattern: /indices element out of data bounds|out of range|out of bounds|index .* is out/i,
    hint: "An input value indexes past what the model has (e.g. a token id ≥ its vocabulary size); check the values.",
  },
  {
    pattern:
      /invalid dimensions for input|invalid rank for input|cannot be reshaped|broadcast an axis|dimension mismatch|shape mismatch|Size\(\) must be >= 0/i,
    hint: "The input shapes do not fit the model; compare them with `gpux inspect` or GET /info.",
  },
  {
    pattern: /INVALID_ARGUMENT|Unexpected input data type|Invalid Feed Input Name/i,
    hint: "Check input shapes and values against `gpux inspect` or GET /info.",
  },
];

/**
 * ONNX Runtime's message without what only its developers can read: the source file and line, the C++
 * function signature, the failed assertion and the error-code prefix. "Non-zero status code returned while
 * running Reshape node. Name:'r' Status Message: /onnxruntime_src/…/reshape_helper.h:91 onnxruntime::…(…)
 * input_shape_size == requested_shape_size was false. The input tensor cannot be reshaped …" becomes
 * "Reshape node 'r': The input tensor cannot be reshaped …".
 */
export function readableRunError(message: string): string {
  const flat = message.replace(/\s+/g, " ").trim();
  const node =
    /^Non-zero status code returned while running (\w+) node\. Name:'([^']*)' Status Message: (.*)$/.exec(
      flat,
    );
  let text = node ? (node[3] as string) : flat;
  text = text.replace(/^.*\[ONNXRuntimeError\] : \d+ : \w+ : /, "");
  // "path/file.cc:57 Function" or "file.h:91 virtual T* onnxruntime::A::B(args)": the place, then its function
  const place =
    /^\S+\.(?:h|hpp|cc|cpp|c):\d+ (?:(?:virtual )?[\w:<>*&, ]*?onnxruntime::[\w:~<>]+\([^)]*\)(?: const)?|\w+) /;
  while (place.test(text)) text = text.replace(place, "");
  text = text.replace(/^[^.]*? was false\. /, "");
  return node ? `${node[1]} node '${node[2]}': ${text}` : text;
}

/** Turn an ONNX Runtime `run` failure into a user error (bad input values, 400) or a runtime failure (500). */
export function classifyRunError(model: string, error: unknown): Error {
  const raw = errorMessage(error);
  log.debug(`model '${model}': ONNX Runtime said: ${raw.trim()}`);
  const readable = readableRunError(raw);
  const fault = inputFaults.find(({ pattern }) => pattern.test(raw));
  if (fault) {
    return new UserError(`Model '${model}' rejected the input: ${readable}`, { hint: fault.hint });
  }
  return new RuntimeFailure(`Inference failed for model '${model}': ${readable}`, {
    hint: "Run with --verbose for ONNX Runtime's full message.",
    cause: error,
  });
}
