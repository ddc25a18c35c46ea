/**
 * The decoder session on real graphs of test/fixtures/make_decoder_layouts.py: with num_logits_to_keep it
 * fetches one position's logits per step (the point of the input), and without it too (the prefill reads all
 * but the last prompt token fetching the cache alone); a merged
 * decoder is fed use_cache_branch; a graph named by genai_config.json is read by those names.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { configForFolder } from "../../src/app/resolve.js";
import type { TextGenerator } from "../../src/engine/generation/generator.js";
import { loadGenerator } from "../../src/engine/generation/load-generator.js";
import { Model } from "../../src/engine/model.js";
import {
  type DecoderLayoutName,
  decoderLayoutPythonModules,
  decoderLayoutReference,
  decoderLayoutsDir,
} from "../helpers/decoder-layouts.js";
import { missingPythonModules } from "../helpers/python.js";

const missing = missingPythonModules([...decoderLayoutPythonModules]);
if (missing && process.env.GPUX_REQUIRE_PYTHON_TESTS === "1") throw new Error(missing);

const opened: Model[] = [];
after(() => Promise.all(opened.map((model) => model.dispose())));

async function open(name: DecoderLayoutName): Promise<TextGenerator> {
  const config = await configForFolder(join(decoderLayoutsDir(), name), `tiny/${name}`);
  assert.ok(config);
  const model = await Model.load(config, { origin: "http" });
  opened.push(model);
  return loadGenerator(model);
}

/** Logits of each step of a greedy run: how many floats the fetched tensor held, and the token taken. */
async function greedySteps(generator: TextGenerator, promptIds: number[], steps: number) {
  const decoder = generator.decoder;
  const cache = decoder.emptyCache();
  const fetched: number[] = [];
  const tokens: number[] = [];
  let ids = promptIds;
  for (let step = 0; step < steps; step++) {
    const row = await decoder.forward(cache, ids);
    fetched.push(row.data.length);
    const last = row.data.subarray(row.offset, row.offset + row.vocab) as Float32Array;
    const token = last.indexOf(Math.max(...last));
    tokens.push(token);
    ids = [token];
  }
  return { fetched, tokens };
}

describe("decoder layouts in the decoder session", { skip: missing }, () => {
  test("num_logits_to_keep: every step fetches [1, 1, vocab], the prefill included", async () => {
    const ref = decoderLayoutReference("llama-logits-to-keep");
    const generator = await open("llama-logits-to-keep");
    assert.equal(generator.decoder.io.logitsToKeep, "num_logits_to_keep");
    const { fetched, tokens } = await greedySteps(generator, ref.input_ids, 4);
    assert.deepEqual(fetched, [ref.vocab_size, ref.vocab_size, ref.vocab_size, ref.vocab_size]);
    assert.deepEqual(tokens, ref.output_ids.slice(0, 4));
  });

  test("without num_logits_to_keep the prefill still fetches only the last position's logits", async () => {
    // the prompt but its last token is read fetching the cache alone, so the lm_head runs for one position
    const ref = decoderLayoutReference("llama-spm");
    const generator = await open("llama-spm");
    assert.equal(generator.decoder.io.logitsToKeep, undefined);
    const { fetched, tokens } = await greedySteps(generator, ref.input_ids, 4);
    assert.ok(ref.input_ids.length > 1);
    assert.deepEqual(fetched, [ref.vocab_size, ref.vocab_size, ref.vocab_size, ref.vocab_size]);
    assert.deepEqual(tokens, ref.output_ids.slice(0, 4));
  });

  test("a merged decoder takes use_cache_branch; a genai_config.json graph its own names", async () => {
    const merged = await open("llama-merged");
    assert.equal(merged.decoder.io.useCacheBranch, "use_cache_branch");
    const genai = await open("llama-genai");
    const io = genai.decoder.io;
    assert.deepEqual(
      [io.inputIds, io.attentionMask, io.positionIds, io.logits],
      ["token_ids", "attn_mask", "pos_ids", "next_logits"],
    );
    assert.deepEqual(io.layers[1], {
      pastKey: "cache_in.1.key",
      pastValue: "cache_in.1.value",
      presentKey: "cache_out.1.key",
      presentValue: "cache_out.1.value",
    });
    assert.equal(genai.settings.context_length, 64);
    const ref = decoderLayoutReference("llama-genai");
    for (const generator of [merged, genai]) {
      const { tokens } = await greedySteps(generator, ref.input_ids, ref.output_ids.length);
      assert.deepEqual(tokens, ref.output_ids);
    }
  });
});
