import * as ort from "onnxruntime-node";
import { UserError } from "../../util/errors.js";
import type { PipelineContext, Prepared, TensorMap } from "../pipeline.js";
import type { Encoding } from "./special-tokens.js";
import type { TextTokenizer } from "./text-tokenizer.js";

const textInputs = ["input_ids", "attention_mask", "token_type_ids"] as const;

/** Truncation length: gpux.yml preprocessing.max_length, inputs[].max_length, the tokenizer's, the model's. */
export function maxLengthFor(context: PipelineContext, tokenizer: TextTokenizer): number | undefined {
  const configured =
    context.config.preprocessing?.max_length ??
    context.config.inputs?.find((input) => input.name === "input_ids")?.max_length;
  if (configured !== undefined) return configured;
  if (tokenizer.modelMaxLength !== undefined) return tokenizer.modelMaxLength;
  const fixed = context.inputs.find((input) => input.name === "input_ids")?.shape?.[1];
  return typeof fixed === "number" && fixed > 0 ? fixed : undefined;
}

function intTensor(dtype: string, data: number[], dims: number[], name: string): ort.Tensor {
  if (dtype === "int64")
    return new ort.Tensor(
      "int64",
      BigInt64Array.from(data, (v) => BigInt(v)),
      dims,
    );
  if (dtype === "int32") return new ort.Tensor("int32", Int32Array.from(data), dims);
  throw new UserError(`Model input '${name}' is ${dtype}; a text model takes int64 or int32 token ids.`, {
    hint: "Send raw tensors instead, or remove `task:` from gpux.yml.",
  });
}

/**
 * The length every row is padded to at least: max_length when gpux.yml says `padding: max_length`, or the
 * model's own sequence length when it is fixed; otherwise none (pad to the longest item only).
 */
function minimumLength(context: PipelineContext, tokenizer: TextTokenizer): number {
  const fixed = context.inputs.find((input) => input.name === "input_ids")?.shape?.[1];
  if (typeof fixed === "number" && fixed > 0) return fixed;
  if (context.config.preprocessing?.padding === "max_length") return maxLengthFor(context, tokenizer) ?? 0;
  return 0;
}

/**
 * Feeds for a batch of encodings: padded to the longest with the tokenizer's pad id (or to `padTo`, or to
 * max_length with `padding: max_length`),
 * token_type_ids only when the model has that input.
 */
export function textFeeds<State>(
  encodings: Encoding[],
  tokenizer: TextTokenizer,
  context: PipelineContext,
  state: State,
  padTo?: number,
): Prepared<State> {
  const names = new Set(context.inputs.map((input) => input.name));
  const extra = [...names].filter((name) => !(textInputs as readonly string[]).includes(name));
  if (!names.has("input_ids") || extra.length > 0) {
    throw new UserError(
      `The text pipeline feeds input_ids, attention_mask and token_type_ids, but this model's inputs are ${[...names].map((n) => `'${n}'`).join(", ")}.`,
      { hint: "Send raw tensors named after the model's inputs, or fix `task:` in gpux.yml." },
    );
  }
  const length = Math.max(
    padTo ?? 0,
    minimumLength(context, tokenizer),
    ...encodings.map((encoding) => encoding.ids.length),
  );
  const size = encodings.length * length;
  const columns: Record<(typeof textInputs)[number], number[]> = {
    input_ids: new Array(size).fill(tokenizer.padId),
    attention_mask: new Array(size).fill(0),
    token_type_ids: new Array(size).fill(0),
  };
  encodings.forEach((encoding, row) => {
    const base = row * length;
    for (let i = 0; i < encoding.ids.length; i++) {
      columns.input_ids[base + i] = encoding.ids[i] as number;
      columns.attention_mask[base + i] = 1;
      columns.token_type_ids[base + i] = encoding.typeIds[i] as number;
    }
  });
  const feeds: TensorMap = {};
  const padding: Record<string, number> = {};
  for (const spec of context.inputs) {
    const name = spec.name as (typeof textInputs)[number];
    feeds[name] = intTensor(spec.dtype, columns[name], [encodings.length, length], name);
    padding[name] = name === "input_ids" ? tokenizer.padId : 0;
  }
  return { feeds, state, padding };
}
