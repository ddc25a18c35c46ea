import type { PipelineContext, Prepared } from "../pipeline.js";
import { encodeInSlices } from "./encode-in-slices.js";
import { readTextRequest, type TextRequest, type TextRequestShape } from "./read-text-request.js";
import type { Encoding } from "./special-tokens.js";
import { maxLengthFor, textFeeds } from "./text-feeds.js";
import type { TextTokenizer, TruncationStrategy } from "./text-tokenizer.js";

/** What every text task remembers between pre- and post-processing. */
export interface TextState {
  request: TextRequest;
  encodings: Encoding[];
  tokenizer: TextTokenizer;
}

/** Validate, tokenize (truncating to the model's length) and build padded feeds for a text request. */
export async function prepareText(
  request: unknown,
  context: PipelineContext,
  tokenizer: TextTokenizer,
  shape: TextRequestShape = {},
  truncation: TruncationStrategy = "longest_first",
): Promise<Prepared<TextState>> {
  const parsed = readTextRequest(request, shape);
  const maxLength = maxLengthFor(context, tokenizer);
  const encodings = await encodeInSlices(tokenizer, parsed.items, { maxLength, truncation }, context);
  return textFeeds(encodings, tokenizer, context, { request: parsed, encodings, tokenizer });
}

/** One answer per item: a list for a batched request, the single answer otherwise. */
export function answerFor<T>(state: TextState, answers: T[]): T | T[] {
  return state.request.batched ? answers : (answers[0] as T);
}
