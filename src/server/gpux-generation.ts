import type { FastifyReply } from "fastify";
import type { GenerationInput } from "../engine/generation/generator.js";
import { checkSampling, type SamplingRequest } from "../engine/generation/sampling.js";
import type { ServedModel } from "../engine/served-model.js";
import { UserError } from "../util/errors.js";
import { clientGone, finishSequence, startSequences } from "./generate-text.js";
import { readMessages } from "./routes/openai/chat-messages.js";
import type { ServerContext } from "./server-context.js";

/** The sampling fields /predict takes, named as in gpux.yml `generation:` (and `gpux run`'s flags). */
const samplingKeys = {
  max_tokens: "maxTokens",
  temperature: "temperature",
  top_k: "topK",
  top_p: "topP",
  min_p: "minP",
  repetition_penalty: "repetitionPenalty",
  seed: "seed",
  stop: "stop",
} as const satisfies Record<string, keyof SamplingRequest>;

const requestHint =
  'Send {"prompt": "…"} or {"messages": [{"role": "user", "content": "…"}]}, with optional max_tokens, temperature, top_k, top_p, min_p, repetition_penalty, seed, stop.';

/** A /predict body for a generation model: a prompt or messages, and the sampling fields. */
function readGenerationRequest(body: unknown): { input: GenerationInput; sampling: SamplingRequest } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new UserError("The request must be a JSON object.", { hint: requestHint });
  }
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).filter(
    (key) => key !== "prompt" && key !== "messages" && !(key in samplingKeys),
  );
  if (unknown.length > 0) {
    throw new UserError(`Unknown field ${unknown.map((k) => `'${k}'`).join(", ")}.`, { hint: requestHint });
  }
  const hasPrompt = fields.prompt !== undefined;
  if (hasPrompt === (fields.messages !== undefined)) {
    throw new UserError("Send either 'prompt' or 'messages'.", { hint: requestHint });
  }
  if (hasPrompt && typeof fields.prompt !== "string") {
    throw new UserError("'prompt' must be a string.", { hint: requestHint });
  }
  const input: GenerationInput = hasPrompt
    ? { prompt: fields.prompt as string }
    : { messages: readMessages(fields.messages).map((message) => ({ ...message })) };
  const sampling: Record<string, unknown> = {};
  for (const [field, key] of Object.entries(samplingKeys)) {
    const value = fields[field];
    if (value !== undefined) sampling[key] = field === "stop" && typeof value === "string" ? [value] : value;
  }
  checkSampling(sampling as SamplingRequest);
  return { input, sampling: sampling as SamplingRequest };
}

/**
 * POST /predict for a text-generation model: the answer's text with its finish reason and token counts
 * (the fields of `gpux run --json`), generated through the model's scheduler like the OpenAI routes.
 */
export async function predictGeneration(
  ctx: ServerContext,
  model: ServedModel,
  body: unknown,
  reply: FastifyReply,
): Promise<unknown> {
  const { input, sampling } = readGenerationRequest(body);
  const signal = clientGone(reply);
  return ctx.record(model, async () => {
    const [sequence] = await startSequences(ctx, model, [input], sampling, signal);
    const summary = await finishSequence(sequence as NonNullable<typeof sequence>);
    return {
      text: summary.text,
      finish_reason: summary.reason,
      prompt_tokens: summary.promptTokens,
      completion_tokens: summary.tokenIds.length,
      tokens: summary.tokenIds,
      seed: summary.seed,
      time_to_first_token_ms: summary.timeToFirstTokenMs,
      decode_tokens_per_second: summary.decodeTokensPerSecond,
    };
  });
}
