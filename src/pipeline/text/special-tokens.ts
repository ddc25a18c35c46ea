import type { Segment } from "./encode-segment.js";

/** A tokenizer's full output for one text or text pair: what the model is fed, plus offsets. */
export interface Encoding {
  ids: number[];
  typeIds: number[];
  tokens: string[];
  /** Code-point offsets into the text the token came from; [0, 0] for added special tokens. */
  offsets: Array<[number, number]>;
  /** 0 for the first text, 1 for the pair, null for special tokens. */
  sequenceIds: Array<0 | 1 | null>;
}

type Piece =
  | { special: { ids: number[]; tokens: string[] }; typeId: number }
  | { sequence: 0 | 1; typeId: number };

/** How special tokens are put around one text or a pair (tokenizer.json `post_processor`). */
export interface SpecialTokens {
  single: Piece[];
  pair: Piece[];
  /** ByteLevel / RoBERTa offset trimming: spaces at a token's edges are not part of its span. */
  trimOffsets: boolean;
  addPrefixSpace: boolean;
}

type PostProcessorConfig = { type: string } & Record<string, unknown>;

function special(token: [string, number], typeId = 0): Piece {
  return { special: { ids: [token[1]], tokens: [token[0]] }, typeId };
}

function templateItems(
  items: unknown,
  specials: Record<string, { ids: number[]; tokens: string[] }>,
): Piece[] {
  return (items as Array<Record<string, { id: string; type_id: number }>>).map((item) => {
    if (item.SpecialToken) {
      const entry = specials[item.SpecialToken.id];
      if (!entry) throw new Error(`template names unknown special token '${item.SpecialToken.id}'`);
      return { special: entry, typeId: item.SpecialToken.type_id };
    }
    const sequence = item.Sequence as { id: string; type_id: number };
    return { sequence: sequence.id === "B" ? 1 : 0, typeId: sequence.type_id };
  });
}

/** Read tokenizer.json's post_processor (Template, Bert, Roberta, ByteLevel, Sequence, or none). */
export function readSpecialTokens(config: PostProcessorConfig | null): SpecialTokens {
  const result: SpecialTokens = {
    single: [{ sequence: 0, typeId: 0 }],
    pair: [
      { sequence: 0, typeId: 0 },
      { sequence: 1, typeId: 1 },
    ],
    trimOffsets: false,
    addPrefixSpace: false,
  };
  const apply = (processor: PostProcessorConfig): void => {
    switch (processor.type) {
      case "TemplateProcessing": {
        const specials = processor.special_tokens as Record<string, { ids: number[]; tokens: string[] }>;
        result.single = templateItems(processor.single, specials);
        result.pair = templateItems(processor.pair, specials);
        return;
      }
      case "BertProcessing": {
        const cls = processor.cls as [string, number];
        const sep = processor.sep as [string, number];
        result.single = [special(cls), { sequence: 0, typeId: 0 }, special(sep)];
        result.pair = [...result.single, { sequence: 1, typeId: 1 }, special(sep, 1)];
        return;
      }
      case "RobertaProcessing": {
        const cls = processor.cls as [string, number];
        const sep = processor.sep as [string, number];
        result.single = [special(cls), { sequence: 0, typeId: 0 }, special(sep)];
        result.pair = [...result.single, special(sep), { sequence: 1, typeId: 0 }, special(sep)];
        result.trimOffsets = processor.trim_offsets !== false;
        result.addPrefixSpace = processor.add_prefix_space !== false;
        return;
      }
      case "ByteLevel":
        result.trimOffsets = processor.trim_offsets === true;
        result.addPrefixSpace = processor.add_prefix_space === true;
        return;
      case "Sequence":
        for (const inner of processor.processors as PostProcessorConfig[]) apply(inner);
        return;
      default:
        throw new Error(`unsupported post_processor type '${processor.type}'`);
    }
  };
  if (config) apply(config);
  return result;
}

/** Number of special tokens added around one text (pair: false) or a pair (pair: true). */
export function specialCount(specials: SpecialTokens, pair: boolean): number {
  return (pair ? specials.pair : specials.single).reduce(
    (sum, piece) => sum + ("special" in piece ? piece.special.ids.length : 0),
    0,
  );
}

const spaceLike = (char: string) => char === "Ġ" || /\s/u.test(char);

/** Rust tokenizers' ByteLevel offset trimming: leading/trailing spaces of a token leave its span. */
function trimOffsets(segment: Segment, addPrefixSpace: boolean): Array<[number, number]> {
  return segment.offsets.map(([start, end], i) => {
    const chars = Array.from(segment.tokens[i] as string);
    let leading = 0;
    while (leading < chars.length && spaceLike(chars[leading] as string)) leading++;
    let trailing = 0;
    while (trailing < chars.length && spaceLike(chars[chars.length - 1 - trailing] as string)) trailing++;
    let a = start;
    let b = end;
    if (leading > 0) {
      const isFirst = i === 0 || start === 0;
      a = Math.min(start + (isFirst && addPrefixSpace && leading === 1 ? 0 : leading), end);
    }
    if (trailing > 0 && b >= trailing) b = Math.max(b - trailing, a);
    return [a, b];
  });
}

/** Put special tokens around one segment or two, as the tokenizer's template says. */
export function addSpecialTokens(specials: SpecialTokens, first: Segment, second?: Segment): Encoding {
  const out: Encoding = { ids: [], typeIds: [], tokens: [], offsets: [], sequenceIds: [] };
  const segments = [first, second];
  for (const piece of second ? specials.pair : specials.single) {
    if ("special" in piece) {
      out.ids.push(...piece.special.ids);
      out.tokens.push(...piece.special.tokens);
      for (let k = 0; k < piece.special.ids.length; k++) {
        out.typeIds.push(piece.typeId);
        out.offsets.push([0, 0]);
        out.sequenceIds.push(null);
      }
      continue;
    }
    const segment = segments[piece.sequence] as Segment;
    const offsets = specials.trimOffsets ? trimOffsets(segment, specials.addPrefixSpace) : segment.offsets;
    out.ids.push(...segment.ids);
    out.tokens.push(...segment.tokens);
    out.offsets.push(...offsets);
    for (let k = 0; k < segment.ids.length; k++) {
      out.typeIds.push(piece.typeId);
      out.sequenceIds.push(piece.sequence);
    }
  }
  return out;
}
