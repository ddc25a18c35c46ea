import { randomUUID } from "node:crypto";
import type { FinishReason, GenerationSummary } from "../../../engine/generation/generator.js";

/** What every object of one answer shares (a stream's chunks all carry the same id and created). */
export interface AnswerHead {
  id: string;
  created: number;
  model: string;
}

export function answerHead(kind: "chat" | "completion", model: string): AnswerHead {
  return {
    id: `${kind === "chat" ? "chatcmpl" : "cmpl"}-${randomUUID()}`,
    created: Math.floor(Date.now() / 1000),
    model,
  };
}

/**
 * OpenAI's finish_reason: "stop" for EOS or a stop string, "length" for max_tokens or the context's end. An
 * aborted sequence has no client left to read it; "stop" keeps the type OpenAI's clients expect.
 */
export function finishReason(reason: FinishReason): "stop" | "length" {
  return reason === "length" ? "length" : "stop";
}

export interface Usage {
  prompt_tokens: number;
  /** New tokens, EOS excluded (the token that completed a stop string is counted). */
  completion_tokens: number;
  total_tokens: number;
}

export function usageOf(summaries: readonly GenerationSummary[]): Usage {
  const prompt = summaries.reduce((sum, s) => sum + s.promptTokens, 0);
  const completion = summaries.reduce((sum, s) => sum + s.tokenIds.length, 0);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** A non-streamed chat answer: `chat.completion`. */
export function chatCompletion(head: AnswerHead, summary: GenerationSummary) {
  return {
    ...head,
    object: "chat.completion",
    choices: [
      {
        index: 0,
        message: { role: "assistant", content: summary.text },
        logprobs: null,
        finish_reason: finishReason(summary.reason),
      },
    ],
    usage: usageOf([summary]),
  };
}

/** A non-streamed completions answer: `text_completion`, one choice per prompt, `echo` puts the prompt first. */
export function textCompletion(
  head: AnswerHead,
  prompts: readonly string[],
  summaries: readonly GenerationSummary[],
  echo: boolean,
) {
  return {
    ...head,
    object: "text_completion",
    choices: summaries.map((summary, index) => ({
      index,
      text: (echo ? prompts[index] : "") + summary.text,
      logprobs: null,
      finish_reason: finishReason(summary.reason),
    })),
    usage: usageOf(summaries),
  };
}

/** The chat delta of one chunk: the role in the first, text in the middle ones, nothing in the last. */
export type ChatDelta = { role: "assistant"; content: string } | { content: string } | Record<string, never>;

/**
 * One `chat.completion.chunk`. With stream_options.include_usage every chunk carries `usage: null` and one
 * last chunk with no choices carries the usage, as OpenAI streams it.
 */
export function chatChunk(
  head: AnswerHead,
  delta: ChatDelta,
  reason: "stop" | "length" | null,
  includeUsage: boolean,
) {
  return {
    ...head,
    object: "chat.completion.chunk",
    choices: [{ index: 0, delta, logprobs: null, finish_reason: reason }],
    ...(includeUsage ? { usage: null } : {}),
  };
}

/** One streamed completions chunk (object `text_completion`, as OpenAI streams it) for choice `index`. */
export function textChunk(
  head: AnswerHead,
  index: number,
  text: string,
  reason: "stop" | "length" | null,
  includeUsage: boolean,
) {
  return {
    ...head,
    object: "text_completion",
    choices: [{ index, text, logprobs: null, finish_reason: reason }],
    ...(includeUsage ? { usage: null } : {}),
  };
}

/** The last chunk of a stream with include_usage: no choices, the usage of every choice. */
export function usageChunk(head: AnswerHead, object: string, usage: Usage) {
  return { ...head, object, choices: [], usage };
}
