/**
 * SentencePiece-style tokenizers (Llama-2, Mistral, Gemma) against Python `tokenizers`, on the tokenizer.json
 * files test/fixtures/make_decoder_layouts.py builds: a ▁ normalizer (Prepend + Replace) and a Metaspace
 * pre-tokenizer, BPE with byte fallback (<0xE4> tokens for characters outside the vocabulary), and the
 * Replace/ByteFallback/Fuse/Strip decoder that drops the first word's space. Encoding gives `tokenizers`' ids;
 * streamed detokenization never shows half a character and adds up to `tokenizer.decode`.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { StreamDecoder } from "../../src/pipeline/text/stream-decoder.js";
import { TextTokenizer } from "../../src/pipeline/text/text-tokenizer.js";
import {
  decoderLayoutPythonModules,
  decoderLayoutReference,
  decoderLayoutsDir,
} from "../helpers/decoder-layouts.js";
import { missingPythonModules } from "../helpers/python.js";

const missing = missingPythonModules([...decoderLayoutPythonModules]);
if (missing && process.env.GPUX_REQUIRE_PYTHON_TESTS === "1") throw new Error(missing);

const styles = [
  ["llama-spm", "▁ normalizer"],
  ["llama-metaspace", "Metaspace pre-tokenizer"],
] as const;

function tokenizerOf(name: string): TextTokenizer {
  const read = (file: string) => JSON.parse(readFileSync(join(decoderLayoutsDir(), name, file), "utf8"));
  return TextTokenizer.fromJson(read("tokenizer.json"), read("tokenizer_config.json"));
}

/** Every piece a stream of `ids` shows, finish() last. */
function streamed(tokenizer: TextTokenizer, ids: number[]): string[] {
  const stream = new StreamDecoder(
    (part) => tokenizer.decode(part, { skipSpecialTokens: true }),
    tokenizer.streamPieces(),
  );
  const pieces = ids.map((id) => stream.push(id));
  pieces.push(stream.finish());
  return pieces;
}

describe("SentencePiece-style tokenizers, as Python tokenizers makes them", { skip: missing }, () => {
  for (const [name, style] of styles) {
    test(`${style}: prompts and texts with byte-fallback characters encode to tokenizers' ids`, () => {
      const tokenizer = tokenizerOf(name);
      const ref = decoderLayoutReference(name);
      assert.deepEqual(tokenizer.encode(ref.prompt).ids, ref.input_ids);
      // the texts include sections after added tokens ("a</s> b<s>你"): only the text's start gets a ▁
      for (const { text, ids } of ref.stream) assert.deepEqual(tokenizer.segment(text).ids, ids, text);
      const bytes = ref.input_ids.map((id) => tokenizer.idToToken(id) ?? "").filter((t) => /^<0x/.test(t));
      assert.ok(bytes.length >= 7, "你好 and 🙂 are byte-fallback tokens");
    });

    test(`${style}: decode equals tokenizers' decode (the first word's space dropped, later ones kept)`, () => {
      const tokenizer = tokenizerOf(name);
      for (const { ids, decoded } of decoderLayoutReference(name).stream) {
        assert.equal(tokenizer.decode(ids), decoded);
      }
    });

    test(`${style}: the stream shows no half character and adds up to tokenizers' decode`, () => {
      const tokenizer = tokenizerOf(name);
      const ref = decoderLayoutReference(name);
      assert.equal(tokenizer.streamPieces(), undefined, "not a byte-level decoder: windows are decoded");
      for (const { text, ids, decoded } of ref.stream) {
        const pieces = streamed(tokenizer, ids);
        for (const piece of pieces) assert.doesNotMatch(piece, /\uFFFD/, text);
        assert.equal(pieces.join(""), decoded, text);
      }
      // 你 is three byte tokens: the first two show nothing, the third the whole character
      const [space, ...you] = tokenizer.segment("你").ids;
      assert.equal(tokenizer.idToToken(space as number), "▁");
      assert.deepEqual(streamed(tokenizer, you).slice(0, 3), ["", "", "你"]);
      // the generated answer: its first word loses its space, as decode drops it
      const answer = streamed(tokenizer, ref.output_ids);
      assert.equal(answer.join(""), ref.text);
      assert.equal(ref.text, "Paris: 你好 🙂 ✓");
      assert.ok(answer.includes(""), "some generated token ended inside a character");
      const first = tokenizer.idToToken(ref.output_ids[0] as number) as string;
      assert.ok(first.startsWith("▁"));
      assert.equal(answer[0], first.slice(1));
    });
  }
});
