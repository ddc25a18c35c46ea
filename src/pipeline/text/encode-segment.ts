import { type AlignedText, alignedFrom } from "./aligned-text.js";
import { decodeByteLevel, utf8Length } from "./byte-level.js";
import type { LibraryModel, LibraryPreTokenizer } from "./library-types.js";

/** Tokens of one text (no special tokens yet), with code-point offsets into that text. */
export interface Segment {
  ids: number[];
  tokens: string[];
  offsets: Array<[number, number]>;
}

/** The parts of a tokenizer that turn text into tokens, read from tokenizer.json. */
export interface SegmentEncoder {
  normalize: (text: AlignedText) => AlignedText;
  preTokenizer: LibraryPreTokenizer | null;
  model: LibraryModel;
  /** Pre-tokens are in GPT-2's byte-level alphabet. */
  byteLevel: boolean;
  /** Metaspace's stand-in for a space (usually ▁), when the pre-tokenizer uses one. */
  spaceMarker: string | null;
  /** WordPiece's `##`: a token that continues a word. */
  continuingPrefix: string | null;
  endOfWordSuffix: string | null;
  unkToken: string | null;
  tokenToId: (token: string) => number;
  /** Added tokens matched verbatim in the raw text (special tokens such as [MASK]), longest first. */
  addedTokens: RegExp | null;
  /** Added token content → whether whitespace around it is stripped (left, right). */
  addedStrip: Map<string, { left: boolean; right: boolean }>;
}

/** Where each character of a pre-token sits in the normalised text (-1: inserted by the pre-tokenizer). */
function locatePiece(chars: string[], text: AlignedText, cursor: number, spaceMarker: string | null) {
  const positions: number[] = [];
  let at = cursor;
  chars.forEach((char, j) => {
    const here = text.chars[at];
    if (here === char || (char === spaceMarker && here === " ")) {
      positions.push(at++);
    } else if (char === " " || char === spaceMarker) {
      positions.push(-1);
    } else {
      const found = j === 0 ? text.chars.indexOf(char, at) : -1;
      if (found < 0) {
        positions.push(-1);
        return;
      }
      positions.push(found);
      at = found + 1;
    }
  });
  return { positions, cursor: at };
}

/** Bytes a token stands for, in the pre-token's own encoding. */
function tokenByteLength(token: string, index: number, encoder: SegmentEncoder): number {
  if (encoder.byteLevel) return Array.from(token).length;
  if (/^<0x[0-9A-Fa-f]{2}>$/.test(token)) return 1;
  let surface = token;
  if (index > 0 && encoder.continuingPrefix && surface.startsWith(encoder.continuingPrefix)) {
    surface = surface.slice(encoder.continuingPrefix.length);
  }
  if (encoder.endOfWordSuffix && surface.endsWith(encoder.endOfWordSuffix)) {
    surface = surface.slice(0, -encoder.endOfWordSuffix.length);
  }
  let bytes = 0;
  for (const char of surface) bytes += utf8Length(char);
  return bytes;
}

function encodeSection(text: AlignedText, encoder: SegmentEncoder, out: Segment): void {
  const normalized = encoder.normalize(text);
  if (normalized.chars.length === 0) return;
  const joined = normalized.chars.join("");
  // as Rust tokenizers decides it: the section that starts the text is the first, not one after an added token
  const sectionIndex = normalized.starts[0] === 0 ? 0 : 1;
  const pieces = encoder.preTokenizer
    ? encoder.preTokenizer.pre_tokenize_text(joined, { section_index: sectionIndex })
    : [joined];
  let cursor = 0;
  for (const piece of pieces) {
    if (piece.length === 0) continue;
    const pieceChars = Array.from(piece);
    const chars = encoder.byteLevel ? Array.from(decodeByteLevel(piece)) : pieceChars;
    const located = locatePiece(chars, normalized, cursor, encoder.spaceMarker);
    cursor = located.cursor;
    // Byte index within the pre-token → character index (bytes of the text a token's units count in).
    const byteToChar: number[] = [];
    chars.forEach((char, i) => {
      const units = encoder.byteLevel ? utf8Length(char) : utf8Length(pieceChars[i] as string);
      for (let k = 0; k < units; k++) byteToChar.push(i);
    });
    const tokens = encoder.model._call([piece]);
    let byte = 0;
    tokens.forEach((token, index) => {
      let first: number;
      let last: number;
      if (token === encoder.unkToken && tokens.length === 1) {
        first = 0;
        last = chars.length - 1;
      } else {
        const length = tokenByteLength(token, index, encoder);
        first = byteToChar[Math.min(byte, byteToChar.length - 1)] ?? 0;
        last = byteToChar[Math.min(byte + Math.max(length, 1) - 1, byteToChar.length - 1)] ?? first;
        byte += length;
      }
      let start = Number.POSITIVE_INFINITY;
      let end = Number.NEGATIVE_INFINITY;
      for (let i = first; i <= last; i++) {
        const position = located.positions[i] ?? -1;
        if (position < 0) continue;
        start = Math.min(start, normalized.starts[position] as number);
        end = Math.max(end, normalized.ends[position] as number);
      }
      if (start === Number.POSITIVE_INFINITY) {
        // Only inserted characters (a prefix space): an empty span where the next real character starts.
        const next = located.positions.find((p, i) => i > last && p >= 0);
        start =
          next === undefined ? (text.ends[text.ends.length - 1] ?? 0) : (normalized.starts[next] as number);
        end = start;
      }
      out.ids.push(encoder.tokenToId(token));
      out.tokens.push(token);
      out.offsets.push([start, end]);
    });
  }
}

function sliceAligned(text: AlignedText, a: number, b: number): AlignedText {
  return { chars: text.chars.slice(a, b), starts: text.starts.slice(a, b), ends: text.ends.slice(a, b) };
}

/** Tokenize one text: added tokens are matched first, the rest normalised, pre-tokenized and modelled. */
export function encodeSegment(text: string, encoder: SegmentEncoder): Segment {
  const out: Segment = { ids: [], tokens: [], offsets: [] };
  const whole = alignedFrom(text);
  if (!encoder.addedTokens) {
    encodeSection(whole, encoder, out);
    return out;
  }
  // Added-token matches in code-point indices.
  const unitToChar: number[] = [];
  whole.chars.forEach((char, i) => {
    for (let k = 0; k < char.length; k++) unitToChar.push(i);
  });
  unitToChar.push(whole.chars.length);
  let next = 0;
  let stripLeft = false;
  for (const match of text.matchAll(encoder.addedTokens)) {
    const a = unitToChar[match.index] as number;
    const b = unitToChar[match.index + match[0].length] as number;
    const strip = encoder.addedStrip.get(match[0]);
    let sectionStart = next;
    let sectionEnd = a;
    while (stripLeft && sectionStart < sectionEnd && /\s/u.test(whole.chars[sectionStart] as string))
      sectionStart++;
    while (strip?.left && sectionEnd > sectionStart && /\s/u.test(whole.chars[sectionEnd - 1] as string))
      sectionEnd--;
    encodeSection(sliceAligned(whole, sectionStart, sectionEnd), encoder, out);
    out.ids.push(encoder.tokenToId(match[0]));
    out.tokens.push(match[0]);
    out.offsets.push([a, b]);
    stripLeft = strip?.right ?? false;
    next = b;
  }
  let sectionStart = next;
  while (stripLeft && sectionStart < whole.chars.length && /\s/u.test(whole.chars[sectionStart] as string))
    sectionStart++;
  encodeSection(sliceAligned(whole, sectionStart, whole.chars.length), encoder, out);
  return out;
}
