import type { GenerationInput, TextGenerator } from "../engine/generation/generator.js";
import { checkSampling, type SamplingRequest } from "../engine/generation/sampling.js";
import type { ChatMessage } from "../pipeline/text/chat-template.js";
import { UserError } from "../util/errors.js";

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

/**
 * One JSON request for a generation model (a line of `run --batch` or of a `compare` dataset):
 * `{"prompt": …}` with an optional `"system"`, rendered as `run --prompt` renders it, or `{"messages": […]}`.
 * `defaults` are the command's --system and --raw.
 */
export function generationRequestInput(
  generator: TextGenerator,
  request: Record<string, unknown>,
  defaults: { system?: string; raw?: boolean } = {},
): GenerationInput {
  if (Array.isArray(request.messages)) return { messages: request.messages as ChatMessage[] };
  if (typeof request.prompt === "string") {
    const system = typeof request.system === "string" ? request.system : defaults.system;
    return promptInput(generator, { prompt: request.prompt, system, raw: defaults.raw });
  }
  throw new UserError(
    'A request for a generation model needs "prompt" (text) or "messages" (a list of turns).',
    {
      hint: 'Write {"prompt": "…"} or {"messages": [{"role": "user", "content": "…"}]} on each line.',
    },
  );
}

/** A request's own sampling fields (snake_case, as the HTTP API names them) and the SamplingRequest keys. */
const samplingFields = {
  max_tokens: "maxTokens",
  temperature: "temperature",
  top_p: "topP",
  top_k: "topK",
  min_p: "minP",
  repetition_penalty: "repetitionPenalty",
  seed: "seed",
  stop: "stop",
} as const satisfies Record<string, keyof SamplingRequest>;

/** `base` (the command's sampling flags) with the fields a request sets itself, checked as every request is. */
export function requestSampling(request: Record<string, unknown>, base: SamplingRequest): SamplingRequest {
  const own: Record<string, unknown> = {};
  for (const [field, key] of Object.entries(samplingFields)) {
    if (request[field] !== undefined) own[key] = request[field];
  }
  if (Object.keys(own).length === 0) return base;
  const sampling = { ...base, ...own } as SamplingRequest;
  checkSampling(sampling);
  return sampling;
}
