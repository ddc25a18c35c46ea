import { type LibraryNormalizer, normalizerClass } from "./library-types.js";

/**
 * Text after normalisation, one entry per code point, each remembering the span of original code points
 * it came from: this is how token offsets point back into the user's text (as Python `tokenizers` does).
 */
export interface AlignedText {
  chars: string[];
  starts: number[];
  ends: number[];
}

/** A normaliser config from tokenizer.json (`{"type": "BertNormalizer", …}`). */
export type NormalizerConfig = { type: string } & Record<string, unknown>;

type Step = (text: AlignedText) => AlignedText;

/** The original text as an aligned text (code point i spans [i, i+1)). */
export function alignedFrom(text: string, offset = 0): AlignedText {
  const chars = Array.from(text);
  return { chars, starts: chars.map((_, i) => offset + i), ends: chars.map((_, i) => offset + i + 1) };
}

/** Apply a normaliser to each cluster (a base character and its combining marks) separately. */
function perCluster(normalizer: LibraryNormalizer): Step {
  return (text) => {
    const out: AlignedText = { chars: [], starts: [], ends: [] };
    let i = 0;
    while (i < text.chars.length) {
      let j = i + 1;
      while (j < text.chars.length && /\p{M}/u.test(text.chars[j] as string)) j++;
      // As Rust tokenizers aligns: output character k comes from input character k (the last one when the
      // output is longer); input characters beyond the output's length were removed.
      const output = Array.from(normalizer.normalize(text.chars.slice(i, j).join("")));
      output.forEach((char, k) => {
        const source = i + Math.min(k, j - i - 1);
        out.chars.push(char);
        out.starts.push(text.starts[source] as number);
        out.ends.push(text.ends[source] as number);
      });
      i = j;
    }
    return out;
  };
}

function strip(left: boolean, right: boolean): Step {
  return (text) => {
    let a = 0;
    let b = text.chars.length;
    while (left && a < b && /\s/u.test(text.chars[a] as string)) a++;
    while (right && b > a && /\s/u.test(text.chars[b - 1] as string)) b--;
    return { chars: text.chars.slice(a, b), starts: text.starts.slice(a, b), ends: text.ends.slice(a, b) };
  };
}

function prepend(prefix: string): Step {
  return (text) => {
    if (text.chars.length === 0) return text;
    const added = Array.from(prefix);
    const start = text.starts[0] as number;
    const end = text.ends[0] as number;
    return {
      chars: [...added, ...text.chars],
      starts: [...added.map(() => start), ...text.starts],
      ends: [...added.map(() => end), ...text.ends],
    };
  };
}

/** Replace every match of a pattern; the replacement spans the matched original characters. */
function replace(pattern: RegExp, content: string): Step {
  return (text) => {
    const joined = text.chars.join("");
    const out: AlignedText = { chars: [], starts: [], ends: [] };
    // Map UTF-16 index → code point index to read match boundaries.
    const unitToChar: number[] = [];
    text.chars.forEach((char, i) => {
      for (let k = 0; k < char.length; k++) unitToChar.push(i);
    });
    unitToChar.push(text.chars.length);
    let next = 0;
    for (const match of joined.matchAll(pattern)) {
      const a = unitToChar[match.index] as number;
      const b = unitToChar[match.index + match[0].length] as number;
      if (b === a) continue;
      for (let i = next; i < a; i++) {
        out.chars.push(text.chars[i] as string);
        out.starts.push(text.starts[i] as number);
        out.ends.push(text.ends[i] as number);
      }
      for (const char of content) {
        out.chars.push(char);
        out.starts.push(text.starts[a] as number);
        out.ends.push(text.ends[b - 1] as number);
      }
      next = b;
    }
    for (let i = next; i < text.chars.length; i++) {
      out.chars.push(text.chars[i] as string);
      out.starts.push(text.starts[i] as number);
      out.ends.push(text.ends[i] as number);
    }
    return out;
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function stepsFor(config: NormalizerConfig): Step[] {
  if (config.type === "Sequence") {
    return (config.normalizers as NormalizerConfig[]).flatMap((inner) => stepsFor(inner));
  }
  if (config.type === "Strip") {
    return [strip(config.strip_left !== false, config.strip_right !== false)];
  }
  if (config.type === "Prepend") return [prepend(String(config.prepend ?? ""))];
  if (config.type === "Replace") {
    const pattern = config.pattern as { String?: string; Regex?: string };
    const source = pattern.Regex ?? escapeRegExp(pattern.String ?? "");
    return [replace(new RegExp(source, "gu"), String(config.content ?? ""))];
  }
  const Normalizer = normalizerClass(config.type);
  if (!Normalizer) throw new Error(`unsupported normalizer type '${config.type}'`);
  return [perCluster(new Normalizer(config))];
}

/** A function that normalises aligned text as tokenizer.json's `normalizer` says (identity for null). */
export function createAlignedNormalizer(config: NormalizerConfig | null): Step {
  const steps = config ? stepsFor(config) : [];
  return (text) => steps.reduce((current, step) => step(current), text);
}
