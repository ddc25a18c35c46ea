import type { TokenPiece } from "./byte-level-pieces.js";

/** Ids → text, the tokenizer's full decode (special tokens skipped). */
export type DecodeIds = (ids: number[]) => string;

/**
 * Turns generated ids into text pieces as they come, never splitting a character: byte-level BPE tokens can
 * end inside a UTF-8 sequence (decoded as U+FFFD until the rest arrives), and SentencePiece decoders drop a
 * word's leading space when it starts the text. So each new piece is the decode of a short window of ids
 * (some already shown, for context) minus the decode of the shown part, and it is held back while it ends
 * in U+FFFD. `finish()` returns what the full decode has beyond what was shown, so the pieces joined equal
 * decode(all ids).
 *
 * With `pieces` (byte-level tokenizers, see byte-level-pieces.ts) each token's bytes go through one streaming
 * UTF-8 decoder instead, which holds an unfinished character itself: no window is decoded per token.
 */
export class StreamDecoder {
  private readonly ids: number[] = [];
  /** Start of the context window in ids. */
  private prefixStart = 0;
  /** ids before this were shown. */
  private readStart = 0;
  private shown = "";

  private readonly utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

  constructor(
    private readonly decode: DecodeIds,
    private readonly pieces?: (id: number) => TokenPiece,
  ) {}

  /** Add one id; returns the text it completes ("" while a character is incomplete). */
  push(id: number): string {
    this.ids.push(id);
    if (this.pieces) {
      const piece = this.pieces(id);
      // an added token ends the byte run before it, as the tokenizer's decode does
      const text =
        piece === null
          ? ""
          : typeof piece === "string"
            ? this.utf8.decode() + piece
            : this.utf8.decode(piece, { stream: true });
      this.shown += text;
      return text;
    }
    const prefix = this.decode(this.ids.slice(this.prefixStart, this.readStart));
    const text = this.decode(this.ids.slice(this.prefixStart));
    if (text.length <= prefix.length || text.endsWith("\uFFFD") || !text.startsWith(prefix)) return "";
    const piece = text.slice(prefix.length);
    this.prefixStart = this.readStart;
    this.readStart = this.ids.length;
    this.shown += piece;
    return piece;
  }

  /** The text not shown yet: the full decode minus what push returned (bytes that never completed, too). */
  finish(): string {
    if (this.pieces) {
      const rest = this.utf8.decode();
      this.shown += rest;
      return rest;
    }
    const full = this.decode(this.ids);
    const rest = full.startsWith(this.shown) ? full.slice(this.shown.length) : "";
    this.shown += rest;
    return rest;
  }

  /** Everything shown so far. */
  get text(): string {
    return this.shown;
  }

  get tokenIds(): readonly number[] {
    return this.ids;
  }
}
