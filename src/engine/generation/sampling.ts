import { z } from "zod";
import { type GenerationSettings, generationFields } from "../../config/generation-settings.js";
import { UserError } from "../../util/errors.js";
import type { SamplerSettings } from "./sampler.js";
import { randomSeed } from "./seeded-random.js";

/** What one request may set; unset fields fall back to gpux.yml `generation:`, then to off. */
export interface SamplingRequest {
  maxTokens?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  minP?: number;
  repetitionPenalty?: number;
  seed?: number;
  stop?: string[];
  /** Keep going past EOS until max_tokens (benchmarks: every run decodes the same number of tokens). */
  ignoreEos?: boolean;
}

/** A request's sampling with every default applied and every value checked. */
export interface ResolvedSampling extends SamplerSettings {
  maxTokens: number;
  seed: number;
  stop: string[];
  ignoreEos: boolean;
}

/** Without max_tokens anywhere, an answer may run this long (if the context allows). */
export const defaultMaxTokens = 512;

const requestSchema = z.strictObject({
  max_tokens: generationFields.max_tokens,
  temperature: generationFields.temperature,
  top_k: generationFields.top_k,
  top_p: generationFields.top_p,
  min_p: generationFields.min_p,
  repetition_penalty: generationFields.repetition_penalty,
  seed: generationFields.seed,
  stop: generationFields.stop,
});

/** Check a request's values against their ranges (before a model is loaded, for quick answers to typos). */
export function checkSampling(request: SamplingRequest): z.output<typeof requestSchema> {
  const raw = {
    max_tokens: request.maxTokens,
    temperature: request.temperature,
    top_k: request.topK,
    top_p: request.topP,
    min_p: request.minP,
    repetition_penalty: request.repetitionPenalty,
    seed: request.seed,
    stop: request.stop,
  };
  const result = requestSchema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0] as z.core.$ZodIssue;
  const field = String(issue.path[0]);
  const value = raw[field as keyof typeof raw];
  throw new UserError(`Invalid ${field} ${JSON.stringify(value)}: ${issue.message.toLowerCase()}.`, {
    hint: "Ranges: temperature 0–100 (0 = greedy), top_p (0, 1], top_k ≥ 0, min_p 0–1, repetition_penalty (0, 10], max_tokens ≥ 1, seed 0–4294967295.",
  });
}

/**
 * Merge a request over gpux.yml `generation:` and check it against the context: prompt + max_tokens must fit.
 * Without max_tokens anywhere the answer may use what is left of the context, up to defaultMaxTokens.
 */
export function resolveSampling(
  request: SamplingRequest,
  defaults: GenerationSettings,
  promptTokens: number,
): ResolvedSampling {
  const asked = checkSampling(request);
  const context = defaults.context_length;
  const maxTokens = asked.max_tokens ?? defaults.max_tokens;
  if (context !== undefined && promptTokens >= context) {
    throw new UserError(
      `The prompt is ${promptTokens} tokens, but the model's context holds ${context} (prompt and answer together).`,
      { hint: "Shorten the prompt (or the chat history)." },
    );
  }
  const room = context === undefined ? Number.POSITIVE_INFINITY : context - promptTokens;
  if (asked.max_tokens !== undefined && asked.max_tokens > room) {
    throw new UserError(
      `The prompt (${promptTokens} tokens) + max_tokens ${asked.max_tokens} exceed the model's context of ${context} tokens.`,
      { hint: `Ask for at most ${room} new tokens, or shorten the prompt.` },
    );
  }
  return {
    maxTokens: Math.min(maxTokens ?? defaultMaxTokens, room),
    temperature: asked.temperature ?? defaults.temperature ?? 0,
    topK: asked.top_k ?? defaults.top_k ?? 0,
    topP: asked.top_p ?? defaults.top_p ?? 1,
    minP: asked.min_p ?? defaults.min_p ?? 0,
    repetitionPenalty: asked.repetition_penalty ?? defaults.repetition_penalty ?? 1,
    seed: asked.seed ?? defaults.seed ?? randomSeed(),
    stop: asked.stop ?? defaults.stop ?? [],
    ignoreEos: request.ignoreEos === true,
  };
}
