import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import type { ConversionReport } from "../../src/convert/converter.js";
import { readOnnxIo } from "../../src/onnx/read-onnx-io.js";
import { runCli } from "../helpers/cli.js";
import { python, requirePython } from "../helpers/python.js";
import { tempDir } from "../helpers/temp-dir.js";
import { causalLmPythonModules } from "../helpers/tiny-causal-lms.js";

/**
 * Families whose attention differs from Llama's, each a tiny random checkpoint (512-token vocabulary, no
 * tokenizer: conversion needs none) converted by `gpux convert`: Mistral with a sliding window shorter than the
 * validation's prompts, Phi-3 with fused qkv and gate-up projections, Gemma 2 with logit soft-capping, a
 * scaled embedding and alternating sliding-window layers. The Qwen3, Llama and GPT-2 exports are covered by
 * the fixtures (test/fixtures/make_tiny_causal_lms.py) and pull-converts-causal-lm.test.ts.
 */
const families: Record<string, { config: string; options: Record<string, unknown>; kvHeads: number }> = {
  mistral: { config: "MistralConfig", options: { head_dim: 16, sliding_window: 4 }, kvHeads: 2 },
  phi3: { config: "Phi3Config", options: { pad_token_id: 0 }, kvHeads: 2 },
  gemma2: {
    config: "Gemma2Config",
    options: { head_dim: 16, sliding_window: 4, final_logit_softcapping: 30.5, attn_logit_softcapping: 50.5 },
    kvHeads: 2,
  },
};

const save = `
import json, sys, torch, transformers
small = dict(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
             num_key_value_heads=2, max_position_embeddings=256, initializer_range=0.1, bos_token_id=1,
             eos_token_id=2)
torch.manual_seed(0)
config = getattr(transformers, sys.argv[1])(**small, **json.loads(sys.argv[2]))
transformers.AutoModelForCausalLM.from_config(config).save_pretrained(sys.argv[3])
`;

for (const [family, expected] of Object.entries(families)) {
  test(`gpux convert exports a tiny ${family} with its KV cache, logits and greedy tokens as PyTorch's`, async (t) => {
    if (!requirePython(t, [...causalLmPythonModules])) return;
    const root = tempDir();
    const checkpoint = join(root, family);
    const saved = spawnSync(
      python,
      ["-c", save, expected.config, JSON.stringify(expected.options), checkpoint],
      { encoding: "utf8" },
    );
    assert.equal(saved.status, 0, saved.stderr);
    const converted = await runCli(["convert", checkpoint, "--output", join(root, "out"), "--json"]);
    assert.equal(converted.code, 0, converted.stderr);
    const { onnx, report } = JSON.parse(converted.stdout) as { onnx: string; report: ConversionReport };
    assert.equal(report.task, "text-generation");
    assert.equal(report.validation?.passed, true, JSON.stringify(report.validation));
    for (const [name, diff] of Object.entries(report.validation?.maxAbsDiff ?? {}))
      assert.ok(diff !== null && diff <= 1e-4, `${name}: ${diff}`);
    assert.equal(report.validation?.greedy?.identical, true);
    const io = await readOnnxIo(onnx);
    const past = io.inputs.find((spec) => spec.name === "past_key_values.1.value");
    assert.deepEqual(past?.shape, ["batch_size", expected.kvHeads, "past_sequence_length", 16]);
    assert.deepEqual(
      io.outputs.map((spec) => spec.name),
      ["logits", "present.0.key", "present.0.value", "present.1.key", "present.1.value"],
    );
  });
}
