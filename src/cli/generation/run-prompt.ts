import type { GenerationEvent, GenerationInput, TextGenerator } from "../../engine/generation/generator.js";
import type { SamplingRequest } from "../../engine/generation/sampling.js";

export interface PromptRunResult {
  model: string;
  provider: string;
  text: string;
  tokens: number[];
  finish_reason: string;
  prompt_tokens: number;
  completion_tokens: number;
  seed: number;
  time_to_first_token_ms: number;
  decode_ms: number;
  decode_tokens_per_second: number;
  total_ms: number;
}

/**
 * Generate for one prompt. Text goes to `write` as it is generated unless `quiet` (--json prints once, at the
 * end); the result carries the tokens and timings.
 */
export function runPrompt(
  generator: TextGenerator,
  input: GenerationInput,
  sampling: SamplingRequest,
  meta: PromptMeta,
): Promise<PromptRunResult> {
  return promptResult(generator.generate(input, sampling, meta.signal), meta);
}

export interface PromptMeta {
  model: string;
  provider: string;
  write?: (text: string) => void;
  signal?: AbortSignal;
}

/**
 * One generation's events (the generator's own loop, or a scheduler's shared one) to the result
 * `run --prompt --json` prints.
 */
export async function promptResult(
  events: AsyncIterable<GenerationEvent>,
  meta: PromptMeta,
): Promise<PromptRunResult> {
  const started = performance.now();
  for await (const event of events) {
    if (event.type !== "done") {
      if (event.text !== "") meta.write?.(event.text);
      continue;
    }
    return {
      model: meta.model,
      provider: meta.provider,
      text: event.text,
      tokens: event.tokenIds,
      finish_reason: event.reason,
      prompt_tokens: event.promptTokens,
      completion_tokens: event.tokenIds.length,
      seed: event.seed,
      time_to_first_token_ms: event.timeToFirstTokenMs,
      decode_ms: event.decodeMs,
      decode_tokens_per_second: event.decodeTokensPerSecond,
      total_ms: performance.now() - started,
    };
  }
  throw new Error("generation ended without a summary");
}
