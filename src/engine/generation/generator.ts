import type { GenerationSettings } from "../../config/generation-settings.js";
import type { TokenPiece } from "../../pipeline/text/byte-level-pieces.js";
import type { ChatMessage, ChatTemplate } from "../../pipeline/text/chat-template.js";
import { StreamDecoder } from "../../pipeline/text/stream-decoder.js";
import type { TextTokenizer } from "../../pipeline/text/text-tokenizer.js";
import { UserError } from "../../util/errors.js";
import type { DecoderSession } from "./decoder-session.js";
import { Sampler } from "./sampler.js";
import { resolveSampling, type SamplingRequest } from "./sampling.js";
import { seededRandom } from "./seeded-random.js";
import { StopStrings } from "./stop-strings.js";

/** A prompt as it is (base models, --raw) or a chat rendered by the model's template. */
export type GenerationInput = { prompt: string } | { messages: ChatMessage[]; tools?: unknown[] };

export type FinishReason = "stop" | "length" | "abort";

/** What a finished generation reports. */
export interface GenerationSummary {
  reason: FinishReason;
  /** The answer: every token event's text joined (stop strings and EOS excluded). */
  text: string;
  promptTokens: number;
  /** The generated ids (EOS excluded). */
  tokenIds: number[];
  seed: number;
  /** From the call to the first new token: tokenization, prefill, first sample. */
  timeToFirstTokenMs: number;
  /** From the first new token to the last. */
  decodeMs: number;
  /** New tokens after the first per second of decodeMs. */
  decodeTokensPerSecond: number;
}

/**
 * Events of one generation: each token with the text it completes ("" while a character is unfinished or
 * could start a stop string), at the end any text still held back, then done. The texts joined are the answer.
 */
export type GenerationEvent =
  | { type: "token"; id: number; text: string }
  | { type: "text"; text: string }
  | ({ type: "done" } & GenerationSummary);

export interface GeneratorParts {
  decoder: DecoderSession;
  tokenizer: TextTokenizer;
  template?: ChatTemplate;
  /** gpux.yml `generation:` over what the model's files say. */
  settings: GenerationSettings;
  /** Ids that end an answer. */
  eosIds: ReadonlySet<number>;
}

/**
 * Text generation for one model: prompt or messages in, token events out. Each call owns its sequence (its
 * cache, sampler and stream decoder); the decoder session only runs forward passes, so a scheduler can later
 * drive several sequences' steps (issue 12).
 */
export class TextGenerator {
  private readonly pieces: ((id: number) => TokenPiece) | undefined;

  constructor(private readonly parts: GeneratorParts) {
    this.pieces = parts.tokenizer.streamPieces();
  }

  get hasChatTemplate(): boolean {
    return this.parts.template !== undefined;
  }

  get settings(): GenerationSettings {
    return this.parts.settings;
  }

  /** The prompt text a chat renders to (what the model reads). */
  renderChat(messages: readonly ChatMessage[], tools?: unknown[]): string {
    const template = this.parts.template;
    if (!template) {
      throw new UserError("This model has no chat template, so it cannot take chat messages.", {
        hint: "It is a base model: send a plain prompt with --raw (or use its instruct/chat version).",
      });
    }
    return template.render(messages, { addGenerationPrompt: true, tools });
  }

  /** Token ids of a prompt: plain prompts get the tokenizer's special tokens, templates write their own. */
  encode(input: GenerationInput): number[] {
    if ("messages" in input) {
      if (input.messages.length === 0)
        throw new UserError("The chat has no messages.", { hint: "Send at least one user message." });
      return this.parts.tokenizer.segment(this.renderChat(input.messages, input.tools)).ids;
    }
    if (input.prompt.trim() === "") {
      throw new UserError("The prompt is empty.", { hint: 'Pass some text: --prompt "Once upon a time"' });
    }
    return this.parts.tokenizer.encode(input.prompt).ids;
  }

  /** Generate an answer; stops at EOS, a stop string, max_tokens, or when `signal` aborts. */
  async *generate(
    input: GenerationInput,
    request: SamplingRequest = {},
    signal?: AbortSignal,
  ): AsyncGenerator<GenerationEvent> {
    const started = performance.now();
    const { decoder, tokenizer, eosIds } = this.parts;
    const promptIds = this.encode(input);
    const sampling = resolveSampling(request, this.parts.settings, promptIds.length);
    const sampler = new Sampler(sampling, seededRandom(sampling.seed));
    const seen = new Set<number>(sampling.repetitionPenalty === 1 ? [] : promptIds);
    const stream = new StreamDecoder(
      (ids) => tokenizer.decode(ids, { skipSpecialTokens: true }),
      this.pieces,
    );
    const stops = new StopStrings(sampling.stop);
    const cache = decoder.emptyCache();
    const tokenIds: number[] = [];
    let text = "";
    let reason: FinishReason = "length";
    let stopped = false;
    let firstAt = 0;
    let lastAt = 0;
    let logits = await decoder.forward(cache, promptIds);
    while (tokenIds.length < sampling.maxTokens) {
      if (signal?.aborted) {
        reason = "abort";
        break;
      }
      const id = sampler.pick(logits, seen.size > 0 ? [...seen] : []);
      lastAt = performance.now();
      if (tokenIds.length === 0) firstAt = lastAt;
      if (eosIds.has(id) && !sampling.ignoreEos) {
        reason = "stop";
        break;
      }
      tokenIds.push(id);
      if (sampling.repetitionPenalty !== 1) seen.add(id);
      const shown = stops.push(stream.push(id));
      text += shown.text;
      yield { type: "token", id, text: shown.text };
      if (shown.stopped) {
        reason = "stop";
        stopped = true;
        break;
      }
      if (tokenIds.length < sampling.maxTokens) logits = await decoder.forward(cache, [id]);
    }
    if (!stopped) {
      const rest = stops.push(stream.finish());
      const tail = rest.text + (rest.stopped ? "" : stops.flush());
      if (tail !== "") {
        text += tail;
        yield { type: "text", text: tail };
      }
    }
    const decodeMs = tokenIds.length > 1 ? lastAt - firstAt : 0;
    yield {
      type: "done",
      reason,
      text,
      promptTokens: promptIds.length,
      tokenIds,
      seed: sampling.seed,
      timeToFirstTokenMs: (firstAt || performance.now()) - started,
      decodeMs,
      decodeTokensPerSecond: decodeMs > 0 ? ((tokenIds.length - 1) * 1000) / decodeMs : 0,
    };
  }
}
