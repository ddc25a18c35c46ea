import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import * as ort from "onnxruntime-node";
import type { ConversionReport } from "../../src/convert/converter.js";
import { readOnnxIo } from "../../src/onnx/read-onnx-io.js";
import { runCli } from "../helpers/cli.js";
import { type FakeRepo, startFakeHub } from "../helpers/fake-hub.js";
import { missingPythonModules, requirePython } from "../helpers/python.js";
import { tempDir } from "../helpers/temp-dir.js";
import {
  causalLmPythonModules,
  tinyCausalLmReference,
  tinyCausalLmRepo,
} from "../helpers/tiny-causal-lms.js";

const modules = [...causalLmPythonModules];
// without Python the repos cannot be generated: every test below then skips (or fails in CI)
const python = missingPythonModules(modules) === undefined;
const repos: FakeRepo[] = python
  ? [
      tinyCausalLmRepo("qwen3-safetensors", "tiny/qwen3-safetensors"),
      // no pipeline_tag: config.json's Qwen3ForCausalLM decides the task
      tinyCausalLmRepo("qwen3-safetensors", "tiny/qwen3-untagged", { pipelineTag: undefined }),
      // sampling defaults that generate() would apply if the check let the repo's generation_config in
      tinyCausalLmRepo("qwen3-safetensors", "tiny/qwen3-penalized", {}, (files) => {
        const generation = JSON.parse(String(files["generation_config.json"]));
        files["generation_config.json"] = JSON.stringify({
          ...generation,
          repetition_penalty: 1.5,
          no_repeat_ngram_size: 2,
        });
      }),
    ]
  : [];
const hub = await startFakeHub({ repos });
after(() => hub.close());

function env(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    HF_ENDPOINT: hub.url,
    HF_HUB_CACHE: join(home, "hf", "hub"),
    HF_TOKEN: "",
    GPUX_HOME: join(home, "gpux"),
    ...extra,
  };
}

interface Pulled {
  path: string;
  cached: boolean;
  manifest: { model: string; conversion: ConversionReport };
}

async function pull(home: string, id: string, extra: NodeJS.ProcessEnv = {}): Promise<Pulled> {
  const pulled = await runCli(["pull", id, "--json"], { env: env(home, extra) });
  assert.equal(pulled.code, 0, pulled.stderr);
  const result = JSON.parse(pulled.stdout.trim().split("\n").pop() as string) as Omit<Pulled, "manifest">;
  const manifest = JSON.parse(readFileSync(join(result.path, "manifest.json"), "utf8"));
  return { ...result, manifest };
}

/** Greedy decoding with the cache fed back, as simply as ONNX Runtime allows: the model's own answer. */
async function greedy(modelPath: string, prompt: number[], steps: number, eos: number[]): Promise<number[]> {
  const session = await ort.InferenceSession.create(modelPath);
  const layers = session.inputNames.filter((name) => name.endsWith(".key")).length;
  const config = JSON.parse(readFileSync(join(modelPath, "..", "config.json"), "utf8"));
  const [kvHeads, headDim] = [config.num_key_value_heads, config.head_dim];
  const ints = (values: number[]) =>
    new ort.Tensor("int64", BigInt64Array.from(values.map(BigInt)), [1, values.length]);
  let past: Record<string, ort.Tensor> = {};
  for (let i = 0; i < layers; i++)
    for (const kind of ["key", "value"])
      past[`past_key_values.${i}.${kind}`] = new ort.Tensor("float32", new Float32Array(0), [
        1,
        kvHeads,
        0,
        headDim,
      ]);
  let ids = prompt;
  let seen = 0;
  const tokens: number[] = [];
  while (tokens.length < steps) {
    const positions = ids.map((_, i) => seen + i);
    seen += ids.length;
    const out = await session.run({
      input_ids: ints(ids),
      attention_mask: ints(new Array(seen).fill(1)),
      position_ids: ints(positions),
      ...past,
    });
    const logits = out.logits as ort.Tensor;
    const vocab = logits.dims[2] as number;
    const last = (logits.data as Float32Array).subarray((ids.length - 1) * vocab, ids.length * vocab);
    const best = last.reduce((top, value, v) => (value > (last[top] as number) ? v : top), 0);
    tokens.push(best);
    if (eos.includes(best)) break;
    past = Object.fromEntries(
      Object.keys(past).map((name) => [name, out[name.replace("past_key_values", "present")] as ort.Tensor]),
    );
    ids = [best];
  }
  await session.release();
  return tokens;
}

const home = tempDir();

test("gpux pull of a safetensors-only causal LM exports it with the KV cache, checked both ways", async (t) => {
  if (!requirePython(t, modules)) return;
  const { path, manifest } = await pull(home, "tiny/qwen3-safetensors");
  const report = manifest.conversion;
  assert.equal(report.converter, "pytorch");
  assert.equal(report.task, "text-generation");
  assert.equal(report.taskSource, "pipeline_tag");
  const validation = report.validation;
  assert.ok(validation?.passed, JSON.stringify(validation));
  // check 1: logits (and the present values fed back) within 1e-4 of PyTorch, prefill and decode steps
  assert.deepEqual(Object.keys(validation.maxAbsDiff).sort(), ["logits", "present"]);
  for (const [name, diff] of Object.entries(validation.maxAbsDiff))
    assert.ok(diff !== null && diff <= 1e-4, `${name}: ${diff}`);
  assert.ok(
    validation.cases.some((c) => /^\dx0\+\d+$/.test(c)) && validation.cases.some((c) => /^\dx[1-9]/.test(c)),
  );
  // check 2: greedy tokens from ONNX Runtime identical to transformers' generate() over 8 steps
  assert.equal(validation.greedy?.steps, 8);
  assert.equal(validation.greedy?.identical, true);
  for (const run of validation.greedy?.runs ?? []) assert.deepEqual(run.onnx, run.torch);

  const model = join(path, manifest.model);
  const io = await readOnnxIo(model);
  const shapes = Object.fromEntries([...io.inputs, ...io.outputs].map((spec) => [spec.name, spec.shape]));
  assert.deepEqual(
    io.inputs.map((spec) => spec.name),
    [
      "input_ids",
      "attention_mask",
      "position_ids",
      ...[0, 1].flatMap((i) => [`past_key_values.${i}.key`, `past_key_values.${i}.value`]),
    ],
  );
  assert.deepEqual(
    io.outputs.map((spec) => spec.name),
    ["logits", ...[0, 1].flatMap((i) => [`present.${i}.key`, `present.${i}.value`])],
  );
  assert.deepEqual(shapes.input_ids, ["batch_size", "sequence_length"]);
  assert.deepEqual(shapes.attention_mask, ["batch_size", "total_sequence_length"]);
  // [batch, kv_heads, past, head_dim], GQA: 2 kv heads for 4 attention heads
  assert.deepEqual(shapes["past_key_values.0.key"], ["batch_size", 2, "past_sequence_length", 16]);
  assert.deepEqual(shapes["present.1.value"], ["batch_size", 2, "total_sequence_length", 16]);
  assert.deepEqual(shapes.logits, ["batch_size", "sequence_length", 151936]);
  assert.ok(existsSync(`${model}_data`), "weights in model.onnx_data beside the graph");
  // the tokenizer and generation_config.json travel with the converted model
  for (const file of ["tokenizer.json", "tokenizer_config.json", "generation_config.json", "config.json"])
    assert.ok(existsSync(join(path, file)), file);

  // the converted model answers what transformers' generate() answered for the reference prompts
  const reference = tinyCausalLmReference("qwen3-safetensors");
  for (const run of [reference.plain, reference.chat]) {
    if (!run) continue;
    const tokens = await greedy(model, run.input_ids, reference.max_new_tokens, reference.eos_token_id);
    assert.deepEqual(tokens, run.output_ids);
  }
});

test("without a pipeline_tag, a *ForCausalLM architecture is exported as text-generation", async (t) => {
  if (!requirePython(t, modules)) return;
  const { manifest } = await pull(tempDir(), "tiny/qwen3-untagged");
  assert.equal(manifest.conversion.task, "text-generation");
  assert.equal(manifest.conversion.taskSource, "architectures");
  assert.equal(manifest.conversion.validation?.greedy?.identical, true);
});

test("the greedy check compares plain greedy decoding: the repo's repetition penalty is not applied to it", async (t) => {
  if (!requirePython(t, modules)) return;
  const { manifest } = await pull(tempDir(), "tiny/qwen3-penalized");
  assert.equal(manifest.conversion.validation?.greedy?.identical, true);
});

test("a second pull of the causal LM reuses the conversion: no Python is even started", async (t) => {
  if (!requirePython(t, modules)) return;
  await pull(home, "tiny/qwen3-safetensors");
  const again = await pull(home, "tiny/qwen3-safetensors", { GPUX_PYTHON: "/nonexistent" });
  assert.equal(again.cached, true);
  assert.equal(again.manifest.conversion.validation?.greedy?.identical, true);
});

test("a causal-LM export that misses --atol is refused: exit 3, the failed check named, nothing kept", async (t) => {
  if (!requirePython(t, modules)) return;
  const own = tempDir();
  const pulled = await runCli(["pull", "tiny/qwen3-safetensors", "--atol", "1e-12"], { env: env(own) });
  assert.equal(pulled.code, 3, pulled.stderr);
  assert.match(
    pulled.stderr,
    /does not compute what the source model does: max abs diff logits \S+, present \S+ exceeds --atol 1e-12/,
  );
  // the fast export is ruled out as the cause before failing
  assert.match(pulled.stderr, /exporting again with full shape inference/);
  const models = join(own, "gpux", "models");
  const leftovers = existsSync(models) ? readdirSync(models, { recursive: true }) : [];
  assert.deepEqual(
    leftovers.filter((name) => String(name).endsWith(".onnx")),
    [],
  );
});
