import { createAlignedNormalizer, type NormalizerConfig } from "./aligned-text.js";
import { byteLevelPieces, type TokenPiece } from "./byte-level-pieces.js";
import { encodeSegment, type Segment, type SegmentEncoder } from "./encode-segment.js";
import { createLibraryTokenizer, type LibraryTokenizer } from "./library-types.js";
import {
  addSpecialTokens,
  type Encoding,
  readSpecialTokens,
  type SpecialTokens,
  specialCount,
} from "./special-tokens.js";

/** How a text pair is shortened to fit: both, longest first (default), or only the second (QA context). */
export type TruncationStrategy = "longest_first" | "only_second";

export interface EncodeOptions {
  /** Total length with special tokens; undefined: no truncation. */
  maxLength?: number;
  /** Default: "longest_first". */
  truncation?: TruncationStrategy;
}

type Json = Record<string, unknown>;
type AddedTokenJson = { id: number; content: string; special?: boolean; lstrip?: boolean; rstrip?: boolean };

function tokenName(value: unknown): string | undefined {
  if (typeof value === "string") return value;
  if (value && typeof value === "object" && typeof (value as Json).content === "string")
    return (value as Json).content as string;
  return undefined;
}

function findConfig(config: unknown, type: string): Json | undefined {
  if (!config || typeof config !== "object") return undefined;
  const node = config as Json;
  if (node.type === type) return node;
  for (const key of ["pretokenizers", "processors"]) {
    const list = node[key];
    if (Array.isArray(list)) {
      for (const inner of list) {
        const found = findConfig(inner, type);
        if (found) return found;
      }
    }
  }
  return undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function shorten(segment: Segment, length: number): Segment {
  return {
    ids: segment.ids.slice(0, length),
    tokens: segment.tokens.slice(0, length),
    offsets: segment.offsets.slice(0, length),
  };
}

/**
 * A Hugging Face tokenizer (tokenizer.json + tokenizer_config.json) that also reports character offsets:
 * @huggingface/tokenizers supplies the normalisers, pre-tokenizers and models; gpux keeps track of where each
 * token came from and applies truncation and special tokens itself.
 */
export class TextTokenizer {
  private readonly encoder: SegmentEncoder;
  private readonly specials: SpecialTokens;
  readonly padId: number;
  /** tokenizer_config.json's model_max_length when it is a real limit. */
  readonly modelMaxLength?: number;
  readonly maskToken?: string;
  readonly unkId?: number;
  readonly hasContinuingPrefix: boolean;

  constructor(
    private readonly library: LibraryTokenizer,
    tokenizerJson: Json,
    tokenizerConfig: Json,
  ) {
    const model = library.model;
    const modelConfig = tokenizerJson.model as Json;
    const added = (tokenizerJson.added_tokens ?? []) as AddedTokenJson[];
    const contents = added.map((token) => token.content).filter((content) => content.length > 0);
    contents.sort((a, b) => b.length - a.length);
    const metaspace = findConfig(tokenizerJson.pre_tokenizer, "Metaspace");
    const byteLevel = findConfig(tokenizerJson.pre_tokenizer, "ByteLevel");
    const unkToken = typeof modelConfig.unk_token === "string" ? modelConfig.unk_token : null;
    const unkId = unkToken === null ? undefined : model.tokens_to_ids.get(unkToken);
    this.encoder = {
      normalize: createAlignedNormalizer((tokenizerJson.normalizer ?? null) as NormalizerConfig | null),
      preTokenizer: library.pre_tokenizer,
      model,
      byteLevel: byteLevel !== undefined,
      spaceMarker: metaspace ? String(metaspace.replacement ?? "▁") : null,
      continuingPrefix:
        typeof modelConfig.continuing_subword_prefix === "string"
          ? modelConfig.continuing_subword_prefix
          : null,
      endOfWordSuffix:
        typeof modelConfig.end_of_word_suffix === "string" ? modelConfig.end_of_word_suffix : null,
      unkToken,
      tokenToId: (token) => model.tokens_to_ids.get(token) ?? unkId ?? 0,
      addedTokens: contents.length > 0 ? new RegExp(contents.map(escapeRegExp).join("|"), "gu") : null,
      addedStrip: new Map(
        added.map((token) => [token.content, { left: token.lstrip === true, right: token.rstrip === true }]),
      ),
    };
    this.specials = readSpecialTokens((tokenizerJson.post_processor ?? null) as never);
    this.hasContinuingPrefix = this.encoder.continuingPrefix !== null;
    this.unkId = unkId;
    const padName = tokenName(tokenizerConfig.pad_token);
    const padding = tokenizerJson.padding as Json | null | undefined;
    this.padId =
      (padName === undefined ? undefined : model.tokens_to_ids.get(padName)) ??
      (typeof padding?.pad_id === "number" ? padding.pad_id : 0);
    const maxLength = tokenizerConfig.model_max_length;
    if (typeof maxLength === "number" && maxLength > 0 && maxLength < 1e6) this.modelMaxLength = maxLength;
    this.maskToken = tokenName(tokenizerConfig.mask_token);
  }

  /** Build from the parsed files (tokenizer_config.json may be empty). */
  static fromJson(tokenizerJson: Json, tokenizerConfig: Json = {}): TextTokenizer {
    return new TextTokenizer(
      createLibraryTokenizer(tokenizerJson, tokenizerConfig),
      tokenizerJson,
      tokenizerConfig,
    );
  }

  /** Tokens of one text without special tokens. */
  segment(text: string): Segment {
    return encodeSegment(text, this.encoder);
  }

  /** Tokenize a text or a text pair, truncate to maxLength and add the special tokens. */
  encode(text: string, pair?: string, options: EncodeOptions = {}): Encoding {
    let first = this.segment(text);
    let second = pair === undefined ? undefined : this.segment(pair);
    if (options.maxLength !== undefined) {
      const budget = Math.max(0, options.maxLength - specialCount(this.specials, second !== undefined));
      if (!second) {
        if (first.ids.length > budget) first = shorten(first, budget);
      } else if (first.ids.length + second.ids.length > budget) {
        let a = first.ids.length;
        let b = second.ids.length;
        if (options.truncation === "only_second") b = Math.max(0, budget - a);
        else
          while (a + b > budget) {
            if (a > b) a--;
            else b--;
          }
        first = shorten(first, a);
        second = shorten(second, b);
      }
    }
    return addSpecialTokens(this.specials, first, second);
  }

  tokenToId(token: string): number | undefined {
    return this.library.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.library.id_to_token(id);
  }

  /** Join tokens back into text with the tokenizer's decoder (e.g. "new", "##s" → "news"). */
  tokensToString(tokens: string[]): string {
    const decoder = this.library.decoder;
    return decoder ? decoder.decode(tokens) : tokens.join(" ");
  }

  /** Each token's share of decode(ids, skip special tokens), when the decoder allows it (byte-level-pieces.ts). */
  streamPieces(): ((id: number) => TokenPiece) | undefined {
    return byteLevelPieces(this.library);
  }

  /** Decode ids to text, skipping special tokens unless told to keep them. */
  decode(ids: number[], options: { skipSpecialTokens?: boolean } = {}): string {
    if (ids.length === 0) return "";
    return this.library.decode(ids, { skip_special_tokens: options.skipSpecialTokens ?? true });
  }
}
