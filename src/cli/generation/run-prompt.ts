import type { GenerationInput, TextGenerator } from "../../engine/generation/generator.js";
import type { SamplingRequest } from "../../engine/generation/sampling.js";
import type { ChatMessage } from "../../pipeline/text/chat-template.js";
import { UserError } from "../../util/errors.js";

export interface PromptOptions {
  prompt: string;
  /** The system turn (models with a chat template only). */
  system?: string;
  /** Send the prompt as it is, even to a model with a chat template. */
  raw?: boolean;
}

/** A prompt must say something (checked before a model is loaded, too). */
export function checkPrompt(prompt: string): void {
  if (prompt.trim() === "") {
    throw new UserError("The prompt is empty.", { hint: 'Pass some text: --prompt "Why is the sky blue?"' });
  }
}

/**
 * What a CLI prompt becomes: the user turn (after `--system`) rendered by the model's chat template, or the
 * text as it is with --raw and for base models, which have no template.
 */
export function promptInput(generator: TextGenerator, options: PromptOptions): GenerationInput {
  checkPrompt(options.prompt);
  if (options.raw || !generator.hasChatTemplate) {
    if (options.system !== undefined) {
      throw new UserError(
        options.raw
          ? "--system needs the chat template, which --raw skips."
          : "This model has no chat template, so it has no system turn.",
        { hint: "Put the instructions into the prompt itself, or drop --system." },
      );
    }
    return { prompt: options.prompt };
  }
  const messages: ChatMessage[] = [];
  if (options.system !== undefined) messages.push({ role: "system", content: options.system });
  messages.push({ role: "user", content: options.prompt });
  return { messages };
}

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
export async function runPrompt(
  generator: TextGenerator,
  input: GenerationInput,
  sampling: SamplingRequest,
  meta: { model: string; provider: string; write?: (text: string) => void; signal?: AbortSignal },
): Promise<PromptRunResult> {
  const started = performance.now();
  for await (const event of generator.generate(input, sampling, meta.signal)) {
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
