/**
 * How a decoder's inputs and outputs are read: names from the graph or from genai_config.json, cache dims from
 * the graph or the configs, the optional inputs; and the generation defaults read from generation_config.json.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { generationDefaults } from "../../src/config/generation-settings.js";
import { readDecoderIo } from "../../src/engine/generation/decoder-io.js";
import type { TensorSpec } from "../../src/onnx/tensor-spec.js";
import { UserError } from "../../src/util/errors.js";

const spec = (
  name: string,
  shape: TensorSpec["shape"] = ["batch", "sequence"],
  dtype: TensorSpec["dtype"] = "int64",
) => ({
  name,
  dtype,
  shape,
});
const cache = (
  prefix: string,
  layers: number,
  dims: TensorSpec["shape"],
  dtype: TensorSpec["dtype"] = "float32",
) =>
  Array.from({ length: layers }, (_, i) => [
    spec(`${prefix}.${i}.key`, dims, dtype),
    spec(`${prefix}.${i}.value`, dims, dtype),
  ]).flat();

describe("readDecoderIo", () => {
  test("Optimum layout: names from the graph, kv heads and head size from the cache dims", () => {
    const io = readDecoderIo(
      [
        spec("input_ids"),
        spec("attention_mask"),
        spec("position_ids"),
        ...cache("past_key_values", 2, ["batch", 2, "past", 16]),
      ],
      [spec("logits", undefined, "float32"), ...cache("present", 2, ["batch", 2, "total", 16])],
      { num_attention_heads: 99 },
      undefined,
    );
    assert.equal(io.layers.length, 2);
    assert.deepEqual(io.layers[1], {
      pastKey: "past_key_values.1.key",
      pastValue: "past_key_values.1.value",
      presentKey: "present.1.key",
      presentValue: "present.1.value",
    });
    assert.equal(io.positionIds, "position_ids");
    assert.deepEqual([io.kvHeads, io.headDim, io.cacheDtype], [2, 16, "float32"]);
    assert.equal(io.useCacheBranch, undefined);
    assert.equal(io.logitsToKeep, undefined);
  });

  test("symbolic cache dims: config.json decides (GQA heads, head_dim or hidden / heads)", () => {
    const inputs = [
      spec("input_ids"),
      spec("attention_mask"),
      ...cache("past_key_values", 1, ["b", "h", "p", "d"], "float16"),
    ];
    const outputs = [
      spec("logits", undefined, "float16"),
      ...cache("present", 1, ["b", "h", "t", "d"], "float16"),
    ];
    const llama = readDecoderIo(
      inputs,
      outputs,
      { num_attention_heads: 8, num_key_value_heads: 2, hidden_size: 256 },
      undefined,
    );
    assert.deepEqual([llama.kvHeads, llama.headDim, llama.cacheDtype], [2, 32, "float16"]);
    const gpt2 = readDecoderIo(inputs, outputs, { n_head: 4, n_embd: 64 }, undefined);
    assert.deepEqual([gpt2.kvHeads, gpt2.headDim, gpt2.positionIds], [4, 16, undefined]);
  });

  test("merged decoders and num_logits_to_keep are recognised", () => {
    const io = readDecoderIo(
      [
        spec("input_ids"),
        spec("use_cache_branch", [1], "bool"),
        spec("num_logits_to_keep", [], "int64"),
        ...cache("past", 1, [1, 4, "p", 8]),
      ],
      [spec("logits", undefined, "float32"), ...cache("present", 1, [1, 4, "t", 8])],
      undefined,
      undefined,
    );
    assert.equal(io.useCacheBranch, "use_cache_branch");
    assert.equal(io.logitsToKeep, "num_logits_to_keep");
    assert.equal(io.layers[0]?.pastKey, "past.0.key");
    assert.equal(io.attentionMask, undefined);
  });

  test("genai_config.json's names win over the graph's patterns", () => {
    const inputs = [spec("ids"), spec("mask"), ...cache("kv_in", 2, [1, 2, "p", 8])];
    const outputs = [spec("scores", undefined, "float32"), ...cache("kv_out", 2, [1, 2, "t", 8])];
    const genai = {
      model: {
        context_length: 2048,
        decoder: {
          num_hidden_layers: 2,
          inputs: {
            input_ids: "ids",
            attention_mask: "mask",
            past_key_names: "kv_in.%d.key",
            past_value_names: "kv_in.%d.value",
          },
          outputs: {
            logits: "scores",
            present_key_names: "kv_out.%d.key",
            present_value_names: "kv_out.%d.value",
          },
        },
      },
    };
    const io = readDecoderIo(inputs, outputs, undefined, genai);
    assert.deepEqual([io.inputIds, io.attentionMask, io.logits], ["ids", "mask", "scores"]);
    assert.equal(io.layers[1]?.presentValue, "kv_out.1.value");
  });

  test("a graph without its KV cache is refused with a UserError naming the layout", () => {
    assert.throws(
      () =>
        readDecoderIo(
          [spec("input_ids"), spec("attention_mask")],
          [spec("logits", undefined, "float32")],
          undefined,
          undefined,
        ),
      (error: unknown) =>
        error instanceof UserError &&
        /without its KV cache/.test(error.message) &&
        /past_key_values/.test(error.hint ?? ""),
    );
  });
});

describe("generationDefaults", () => {
  test("do_sample true keeps the sampling values, with transformers' top_k 50 when absent", () => {
    assert.deepEqual(
      generationDefaults(
        { max_position_embeddings: 4096, eos_token_id: 2 },
        { do_sample: true, temperature: 0.7, top_p: 0.8 },
        undefined,
      ),
      { temperature: 0.7, top_k: 50, top_p: 0.8, eos_token_id: [2], context_length: 4096 },
    );
  });

  test("do_sample false or absent is greedy; every eos_token_id is kept; genai_config.json gives the context", () => {
    assert.deepEqual(
      generationDefaults(
        { eos_token_id: 9 },
        { eos_token_id: [5, 7], temperature: 0.6, max_new_tokens: 100 },
        {
          model: { context_length: 1024 },
        },
      ),
      { temperature: 0, max_tokens: 100, eos_token_id: [5, 7], context_length: 1024 },
    );
    assert.deepEqual(generationDefaults({ n_positions: 1024 }, undefined, undefined), {
      temperature: 0,
      context_length: 1024,
    });
  });
});
