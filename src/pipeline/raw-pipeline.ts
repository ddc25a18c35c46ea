import type * as ort from "onnxruntime-node";
import { formatShape, type TensorSpec } from "../onnx/tensor-spec.js";
import { decodeTensor } from "../runtime/decode-tensor.js";
import { encodeTensor } from "../runtime/encode-tensor.js";
import { zerosTensor } from "../runtime/zeros-tensor.js";
import { UserError } from "../util/errors.js";
import type { Pipeline, PipelineContext, Prepared, TensorMap } from "./pipeline.js";

interface EffectiveInput extends TensorSpec {
  required: boolean;
  maxLength?: number;
}

/** Declared spec with gpux.yml's input settings (shape, required, max_length) applied on top of the model's. */
function effectiveInputs(context: PipelineContext): EffectiveInput[] {
  const overrides = new Map((context.config.inputs ?? []).map((input) => [input.name, input]));
  return context.inputs.map((spec) => {
    const override = overrides.get(spec.name);
    return {
      name: spec.name,
      dtype: spec.dtype,
      shape: override?.shape ?? spec.shape,
      required: override?.required ?? true,
      maxLength: override?.max_length,
    };
  });
}

function checkMaxLength(spec: EffectiveInput, tensor: ort.Tensor): void {
  const length = tensor.dims[tensor.dims.length - 1];
  if (spec.maxLength !== undefined && length !== undefined && length > spec.maxLength) {
    throw new UserError(
      `Input '${spec.name}': length ${length} along the last axis exceeds max_length ${spec.maxLength}.`,
      { hint: `Send at most ${spec.maxLength} values per row, or raise inputs.${spec.name}.max_length.` },
    );
  }
}

/**
 * The shape of an optional input the request left out: fixed dims as declared, symbolic dims taken from a
 * sent input that has a dim of the same name (token_type_ids [batch, sequence] from input_ids).
 */
function shapeForOmitted(spec: EffectiveInput, specs: EffectiveInput[], feeds: TensorMap): number[] {
  const sizes = new Map<string, number>();
  for (const other of specs) {
    const tensor = feeds[other.name];
    if (!tensor || !other.shape) continue;
    other.shape.forEach((dim, i) => {
      const size = tensor.dims[i];
      if (typeof dim === "string" && dim !== "" && size !== undefined) sizes.set(dim, size);
    });
  }
  const shape = spec.shape?.map((dim) =>
    typeof dim === "number" ? (dim >= 0 ? dim : undefined) : sizes.get(dim ?? ""),
  );
  if (!shape || shape.some((dim) => dim === undefined)) {
    throw new UserError(
      `Input '${spec.name}' was left out, but its shape ${formatShape(spec.shape)} cannot be filled in from the other inputs.`,
      {
        hint: `Send '${spec.name}', or give a fixed shape in gpux.yml (inputs.${spec.name}.shape) so gpux can send zeros.`,
      },
    );
  }
  return shape as number[];
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
  const omitted: EffectiveInput[] = [];
  for (const spec of specs) {
    if (!(spec.name in body)) {
      if (spec.required) {
        throw new UserError(`Missing input '${spec.name}' (${spec.dtype} ${formatShape(spec.shape)}).`, {
          hint: "Every model input must be in the request (or be marked `required: false` in gpux.yml).",
        });
      }
      omitted.push(spec);
      continue;
    }
    const tensor = encodeTensor(spec, body[spec.name]);
    checkMaxLength(spec, tensor);
    feeds[spec.name] = tensor;
  }
  // ONNX Runtime needs every graph input: an optional input the request left out is sent as zeros.
  for (const spec of omitted) feeds[spec.name] = zerosTensor(spec, shapeForOmitted(spec, specs, feeds));
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
