import { decodeTensor } from "../runtime/decode-tensor.js";
import { encodeTensor } from "../runtime/encode-tensor.js";
import type { TensorSpec } from "../runtime/tensor-spec.js";
import { UserError } from "../util/errors.js";
import type { Pipeline, PipelineContext, Prepared, TensorMap } from "./pipeline.js";

/** Declared spec with gpux.yml's input overrides (type, shape) applied on top of the model's. */
function effectiveInputs(context: PipelineContext): Array<TensorSpec & { required: boolean }> {
  const overrides = new Map((context.config.inputs ?? []).map((input) => [input.name, input]));
  return context.inputs.map((spec) => {
    const override = overrides.get(spec.name);
    return {
      name: spec.name,
      dtype: spec.dtype,
      shape: override?.shape ?? spec.shape,
      required: override?.required ?? true,
    };
  });
}

/** Encode `{input_name: value}` JSON into feeds, with errors naming unknown and missing inputs. */
export function encodeInputs(request: unknown, context: PipelineContext): TensorMap {
  if (!request || typeof request !== "object" || Array.isArray(request)) {
    throw new UserError("Input must be a JSON object mapping input names to values.", {
      hint: `Example: {"${context.inputs[0]?.name ?? "input"}": [[1, 2, 3]]}`,
    });
  }
  const specs = effectiveInputs(context);
  const known = new Set(specs.map((spec) => spec.name));
  const body = request as Record<string, unknown>;
  const unknown = Object.keys(body).filter((key) => !known.has(key));
  if (unknown.length > 0) {
    throw new UserError(
      `Unknown input ${unknown.map((k) => `'${k}'`).join(", ")}; the model's inputs are ${[...known].map((k) => `'${k}'`).join(", ")}.`,
      {
        hint: "Use `gpux inspect` to see input names, dtypes and shapes.",
      },
    );
  }
  const feeds: TensorMap = {};
  for (const spec of specs) {
    if (!(spec.name in body)) {
      if (spec.required) {
        throw new UserError(`Missing input '${spec.name}' (${spec.dtype}).`, {
          hint: "Every required model input must be present in the request.",
        });
      }
      continue;
    }
    feeds[spec.name] = encodeTensor(spec, body[spec.name]);
  }
  return feeds;
}

/** Decode every output to nested JSON arrays keyed by output name. */
export function decodeOutputs(outputs: TensorMap): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [name, tensor] of Object.entries(outputs)) result[name] = decodeTensor(tensor).data;
  return result;
}

/** No pre- or post-processing: named tensors in, named tensors out. Works for any model. */
export const rawPipeline: Pipeline<undefined> = {
  task: "raw",
  async preprocess(request: unknown, context: PipelineContext): Promise<Prepared<undefined>> {
    return { feeds: encodeInputs(request, context), state: undefined };
  },
  postprocess(outputs: TensorMap): unknown {
    return decodeOutputs(outputs);
  },
};
