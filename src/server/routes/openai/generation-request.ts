import { OpenAiRequestError } from "../../openai-error.js";
import { type ChatMessage, readMessages } from "./chat-messages.js";
import {
  type Body,
  checkKnownFields,
  readBoolean,
  readNumber,
  readStringList,
  requireField,
  requireString,
} from "./read-fields.js";

export type { ChatMessage, ChatRole } from "./chat-messages.js";

/**
 * How to sample the continuation: OpenAI's request fields, checked. A field left out is undefined, so the
 * model's own defaults apply (gpux.yml `generation:`, else generation_config.json), as vLLM and Ollama do:
 * a chat model tuned for temperature 0.6 is not run at OpenAI's 1.
 */
export interface SamplingSettings {
  /** Most new tokens (`max_completion_tokens`, or the older `max_tokens`); undefined: up to the context. */
  maxTokens?: number;
  /** 0 is greedy. */
  temperature?: number;
  /** Nucleus sampling mass. */
  topP?: number;
  /** Makes sampling repeatable when set. */
  seed?: number;
  /** Generation stops before any of these strings (at most 4), which are not returned; undefined: the model's. */
  stop?: string[];
}

interface StreamSettings {
  stream: boolean;
  /** `stream_options.include_usage`: one last chunk with `usage` before `[DONE]`. */
  includeUsage: boolean;
}

export interface ChatCompletionRequest extends StreamSettings {
  kind: "chat";
  model: string;
  messages: ChatMessage[];
  sampling: SamplingSettings;
}

export interface CompletionRequest extends StreamSettings {
  kind: "completion";
  model: string;
  /** One completion per prompt (OpenAI's `prompt` as a string or a list of strings). */
  prompts: string[];
  /** Return the prompt before the completion. */
  echo: boolean;
  sampling: SamplingSettings;
}

export type GenerationRequest = ChatCompletionRequest | CompletionRequest;

const samplingFields = [
  "max_tokens",
  "max_completion_tokens",
  "temperature",
  "top_p",
  "seed",
  "stop",
  "presence_penalty",
  "frequency_penalty",
  "n",
  "stream",
  "stream_options",
] as const;
/** Fields that do not change the answer: accepted and not used. */
const ignoredFields = ["user", "metadata", "store", "service_tier", "parallel_tool_calls"] as const;
/** Most stop sequences, as OpenAI's API allows. */
export const maxStopSequences = 4;
/** The sampler's seed is 32 bits (engine/generation/seeded-random.ts). */
export const maxSeed = 4_294_967_295;
/** Most prompts in one completions request. */
export const maxPrompts = 64;

function unsupported(param: string, what: string): OpenAiRequestError {
  return new OpenAiRequestError(`'${param}' is not supported: gpux ${what}.`, {
    param,
    code: "unsupported_parameter",
    hint: `Leave '${param}' out.`,
  });
}

/**
 * Refuse features gpux does not implement when they are asked for, so none is silently ignored; their
 * neutral values (what clients such as LangChain send by default: `logprobs: false`, `tools: []`, an empty
 * `logit_bias`, `response_format: {"type": "text"}`) are accepted.
 */
function refuseUnsupported(body: Body, refused: Record<string, string>): void {
  for (const [param, what] of Object.entries(refused)) {
    const value = body[param];
    const neutral =
      value === undefined ||
      value === null ||
      value === false ||
      value === 0 ||
      (Array.isArray(value) && value.length === 0) ||
      (typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 0) ||
      (param === "response_format" && (value as { type?: unknown }).type === "text") ||
      (param === "best_of" && value === 1) ||
      (param === "tool_choice" && value === "none");
    if (!neutral) throw unsupported(param, what);
  }
}

function readSampling(body: Body): SamplingSettings {
  const n = readNumber(body, "n", { integer: true, min: 1 });
  if (n !== undefined && n !== 1) {
    throw new OpenAiRequestError(`'n' is ${n}; gpux generates one choice per request.`, {
      param: "n",
      code: "unsupported_parameter",
      hint: "Send n: 1 (or leave it out) and send several requests for several choices.",
    });
  }
  const maxTokens = readNumber(body, "max_tokens", { integer: true, min: 1 });
  const maxCompletionTokens = readNumber(body, "max_completion_tokens", { integer: true, min: 1 });
  if (maxTokens !== undefined && maxCompletionTokens !== undefined && maxTokens !== maxCompletionTokens) {
    throw new OpenAiRequestError("Send one of 'max_tokens' and 'max_completion_tokens', not both.", {
      param: "max_tokens",
      code: "invalid_value",
    });
  }
  // OpenAI's additive penalties: the sampler has repetition_penalty (multiplicative) only, which is not them
  for (const param of ["presence_penalty", "frequency_penalty"]) {
    const penalty = readNumber(body, param, { min: -2, max: 2 });
    if (penalty !== undefined && penalty !== 0) {
      throw new OpenAiRequestError(`'${param}' is not supported: gpux applies no additive penalties.`, {
        param,
        code: "unsupported_parameter",
        hint: `Send ${param} 0 (or leave it out); gpux.yml generation.repetition_penalty sets a multiplicative one.`,
      });
    }
  }
  const stopValue = body.stop;
  const stop =
    stopValue === undefined || stopValue === null
      ? undefined
      : readStringList(stopValue, "stop", maxStopSequences);
  if (stop?.some((s) => s.length === 0)) {
    throw new OpenAiRequestError("'stop' holds an empty string.", { param: "stop", code: "invalid_value" });
  }
  const topP = readNumber(body, "top_p", { min: 0, max: 1 });
  if (topP === 0) {
    // it would keep no token at all
    throw new OpenAiRequestError("'top_p' must be greater than 0, got 0.", {
      param: "top_p",
      code: "invalid_value",
      hint: "Send temperature 0 for greedy decoding.",
    });
  }
  return {
    maxTokens: maxCompletionTokens ?? maxTokens,
    temperature: readNumber(body, "temperature", { min: 0, max: 2 }),
    topP,
    seed: readNumber(body, "seed", { integer: true, min: 0, max: maxSeed }),
    stop,
  };
}

function readStream(body: Body): StreamSettings {
  const stream = readBoolean(body, "stream") ?? false;
  const options = body.stream_options;
  if (options === undefined || options === null) return { stream, includeUsage: false };
  if (!stream) {
    throw new OpenAiRequestError("'stream_options' is only allowed when 'stream' is true.", {
      param: "stream_options",
      code: "invalid_value",
    });
  }
  if (typeof options !== "object" || Array.isArray(options)) {
    throw new OpenAiRequestError("'stream_options' must be an object.", {
      param: "stream_options",
      code: "invalid_type",
    });
  }
  const includeUsage = readBoolean(options as Body, "include_usage") ?? false;
  return { stream, includeUsage };
}

/** POST /v1/chat/completions body → the typed request the generation engine consumes. */
export function parseChatCompletionRequest(body: Body): ChatCompletionRequest {
  const refused = {
    tools: "does not call tools",
    tool_choice: "does not call tools",
    functions: "does not call functions",
    function_call: "does not call functions",
    logprobs: "does not return log-probabilities",
    top_logprobs: "does not return log-probabilities",
    logit_bias: "does not bias logits",
    response_format: "does not constrain the output format",
    audio: "generates text only",
    modalities: "generates text only",
    prediction: "does not use predicted outputs",
  };
  checkKnownFields(body, ["model", "messages", ...samplingFields, ...Object.keys(refused)], ignoredFields);
  refuseUnsupported(body, refused);
  const model = requireString(body, "model");
  const messages = readMessages(requireField(body, "messages"));
  return { kind: "chat", model, messages, sampling: readSampling(body), ...readStream(body) };
}

/** POST /v1/completions body → the typed request the generation engine consumes. */
export function parseCompletionRequest(body: Body): CompletionRequest {
  const refused = {
    suffix: "does not insert text (no suffix)",
    logprobs: "does not return log-probabilities",
    logit_bias: "does not bias logits",
    best_of: "generates one candidate per request (best_of 1)",
  };
  checkKnownFields(
    body,
    ["model", "prompt", "echo", ...samplingFields, ...Object.keys(refused)],
    ignoredFields,
  );
  refuseUnsupported(body, refused);
  const model = requireString(body, "model");
  const prompt = requireField(body, "prompt");
  if (
    Array.isArray(prompt) &&
    prompt.length > 0 &&
    prompt.every((p) => typeof p === "number" || Array.isArray(p))
  ) {
    throw new OpenAiRequestError("'prompt' as token ids is not supported; send the prompt as text.", {
      param: "prompt",
      code: "unsupported_parameter",
    });
  }
  const prompts = readStringList(prompt, "prompt", maxPrompts);
  if (prompts.length === 0) {
    throw new OpenAiRequestError("'prompt' is an empty list.", { param: "prompt", code: "invalid_value" });
  }
  return {
    kind: "completion",
    model,
    prompts,
    echo: readBoolean(body, "echo") ?? false,
    sampling: readSampling(body),
    ...readStream(body),
  };
}
