import type { GenerationSettings } from "../../config/generation-settings.js";
import type { TokenPiece } from "../../pipeline/text/byte-level-pieces.js";
import type { ChatMessage, ChatTemplate } from "../../pipeline/text/chat-template.js";
import { StreamDecoder } from "../../pipeline/text/stream-decoder.js";
import type { TextTokenizer } from "../../pipeline/text/text-tokenizer.js";
import { UserError } from "../../util/errors.js";
import type { DecoderSession } from "./decoder-session.js";
import { resolveSampling, type SamplingRequest } from "./sampling.js";
import { Sequence } from "./sequence.js";

/** A prompt as it is (base models, --raw) or a chat rendered by the model's template. */
export type GenerationInput = { prompt: string } | { messages: ChatMessage[]; tools?: unknown[] };

export type FinishReason = "stop" | "length" | "abort";

/** What a finished generation reports. */
export interface GenerationSummary {
  reason: FinishReason;
  /** The answer: every token event's text joined (stop strings and EOS excluded). */
  text: string;
  promptTokens: number;
  /** False when it ended before its prefill (its client left while it waited for a slot): no prompt was read. */
  promptRead: boolean;
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
 * Text generation for one model: prompt or messages in, token events out. Each answer is a Sequence (its
 * sampler, stop strings and stream decoder); the decoder session only runs forward passes, so the solo loop
 * here and the batching decode loop drive sequences alike.
 */
export class TextGenerator {
  private readonly pieces: ((id: number) => TokenPiece) | undefined;

  constructor(private readonly parts: GeneratorParts) {
    this.pieces = parts.tokenizer.streamPieces();
  }

  /** The forward passes, for a loop that drives several sequences (DecodeLoop). */
  get decoder(): DecoderSession {
    return this.parts.decoder;
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

  /**
   * A new sequence for `input`: its prompt ids and its sampling checked against the context (a bad request
   * throws here, before it runs), ready for a loop to feed it logits.
   */
  startSequence(input: GenerationInput, request: SamplingRequest = {}): Sequence {
    const started = performance.now();
    const promptIds = this.encode(input);
    const sampling = resolveSampling(request, this.parts.settings, promptIds.length);
    const tokenizer = this.parts.tokenizer;
    const stream = new StreamDecoder(
      (ids) => tokenizer.decode(ids, { skipSpecialTokens: true }),
      this.pieces,
    );
    return new Sequence(promptIds, sampling, stream, this.parts.eosIds, started);
  }

  /**
   * Generate one answer alone (the CLI's run --prompt and chat); stops at EOS, a stop string, max_tokens, or
   * when `signal` aborts. A served model's concurrent requests share decode steps instead (DecodeLoop).
   */
  async *generate(
    input: GenerationInput,
    request: SamplingRequest = {},
    signal?: AbortSignal,
  ): AsyncGenerator<GenerationEvent> {
    const sequence = this.startSequence(input, request);
    const decoder = this.parts.decoder;
    const cache = decoder.emptyCache();
    let logits = await decoder.forward(cache, sequence.promptIds);
    for (;;) {
      yield* signal?.aborted ? sequence.abort() : sequence.accept(logits);
      if (sequence.finished) return;
      logits = await decoder.forward(cache, [sequence.lastToken]);
    }
  }
}
