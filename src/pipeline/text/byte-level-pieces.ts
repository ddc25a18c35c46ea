import * as library from "@huggingface/tokenizers";
import { byteOfChar } from "./byte-level.js";
import type { LibraryTokenizer } from "./library-types.js";

/** What one token adds to decoded text: UTF-8 bytes, text as it is (added tokens), or nothing. */
export type TokenPiece = Uint8Array | string | null;

/** The library's fields this reads beyond library-types.ts (@huggingface/tokenizers 0.2). */
interface LibraryDetails {
  added_tokens: Array<{ id: number; content: string; special: boolean }>;
  clean_up_tokenization_spaces: boolean;
}

/**
 * Per-token pieces of the decode, for tokenizers whose decoder is plain ByteLevel (GPT-2, Llama 3, Qwen,
 * SmolLM): there decode(ids) is the tokens' bytes joined (special tokens skipped, other added tokens as text,
 * unknown ids dropped), so text can be streamed one token at a time with a streaming UTF-8 decoder instead of
 * decoding a window of ids twice per token. Undefined for other decoders and with
 * clean_up_tokenization_spaces, whose rewrites cross token boundaries.
 */
export function byteLevelPieces(tokenizer: LibraryTokenizer): ((id: number) => TokenPiece) | undefined {
  const details = tokenizer as unknown as LibraryDetails;
  // the library's .d.ts files cannot be followed from NodeNext (library-types.ts), so the class is looked up
  const byteLevel = (library as unknown as Record<string, abstract new (...args: never[]) => unknown>)
    .ByteLevelDecoder;
  if (!byteLevel || !(tokenizer.decoder instanceof byteLevel) || details.clean_up_tokenization_spaces) {
    return undefined;
  }
  const added = new Map(details.added_tokens.map((token) => [token.id, token]));
  const pieces = new Map<number, TokenPiece>();
  return (id) => {
    let piece = pieces.get(id);
    if (piece !== undefined) return piece;
    const token = added.get(id);
    if (token) piece = token.special ? null : token.content;
    else {
      const text = tokenizer.id_to_token(id);
      piece = text === undefined ? null : Uint8Array.from(text, (char) => byteOfChar(char) ?? 0x3f);
    }
    pieces.set(id, piece);
    return piece;
  };
}
