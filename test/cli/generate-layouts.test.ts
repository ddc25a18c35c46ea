/**
 * `gpux pull` + `gpux run --prompt` on decoder layouts beyond the plain one, each a repo of
 * test/fixtures/make_decoder_layouts.py served by the fake hub, all with one tiny Llama's weights: greedy
 * tokens identical to transformers' generate() for a graph that takes num_logits_to_keep, an Optimum merged
 * decoder (If on use_cache_branch), a graph named by genai_config.json, and SentencePiece-style tokenizers
 * (byte fallback, the first word's space dropped) whose streamed text equals tokenizers' decode.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parse } from "yaml";
import { runCli } from "../helpers/cli.js";
import {
  type DecoderLayoutName,
  decoderLayoutNames,
  decoderLayoutPythonModules,
  decoderLayoutReference,
  decoderLayoutRepo,
} from "../helpers/decoder-layouts.js";
import { startFakeHub } from "../helpers/fake-hub.js";
import { missingPythonModules } from "../helpers/python.js";
import { tempDir } from "../helpers/temp-dir.js";

const missing = missingPythonModules([...decoderLayoutPythonModules]);
if (missing && process.env.GPUX_REQUIRE_PYTHON_TESTS === "1") throw new Error(missing);
const hub = await startFakeHub({
  repos: missing ? [] : decoderLayoutNames.map((name) => decoderLayoutRepo(name, `tiny/${name}`)),
});
after(() => hub.close());
const home = tempDir();
const env = {
  HF_ENDPOINT: hub.url,
  HF_HUB_CACHE: join(home, "hf", "hub"),
  HF_TOKEN: "",
  GPUX_HOME: join(home, "gpux"),
};

const greedy = (name: DecoderLayoutName) => {
  const ref = decoderLayoutReference(name);
  return [`tiny/${name}`, "--prompt", ref.prompt, "--raw", "--temperature", "0", "--max-tokens", "24"];
};

async function storedFiles(name: DecoderLayoutName): Promise<{ path: string; yml: Record<string, unknown> }> {
  const ls = JSON.parse((await runCli(["ls", "--json"], { env })).stdout);
  const entry = ls.models.find((m: { name: string }) => m.name === `tiny/${name}`);
  return { path: entry.path, yml: parse(readFileSync(join(entry.path, "gpux.yml"), "utf8")) };
}

describe("text generation on other decoder layouts", { skip: missing }, () => {
  before(async () => {
    const pulled = await runCli(["pull", ...decoderLayoutNames.map((name) => `tiny/${name}`)], { env });
    assert.equal(pulled.code, 0, pulled.stderr);
  });

  for (const name of decoderLayoutNames) {
    test(`${name}: greedy tokens equal transformers' generate(), ending on </s>`, async () => {
      const ref = decoderLayoutReference(name);
      const result = await runCli(["run", ...greedy(name), "--json"], { env });
      assert.equal(result.code, 0, result.stderr);
      const out = JSON.parse(result.stdout);
      assert.equal(out.prompt_tokens, ref.input_ids.length);
      assert.equal(ref.output_ids.at(-1), 2, "generate() stopped on </s>");
      assert.deepEqual(out.tokens, ref.output_ids.slice(0, -1));
      assert.equal(out.finish_reason, "stop");
      assert.equal(out.text, ref.text);
    });
  }

  for (const name of ["llama-spm", "llama-metaspace"] as const) {
    test(`${name}: the streamed answer is tokenizers' decode, byte-fallback characters whole`, async () => {
      const ref = decoderLayoutReference(name);
      const result = await runCli(["run", ...greedy(name)], { env });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `${ref.text}\n`);
      assert.match(ref.text, /你好 🙂/);
    });
  }

  test("the merged decoder is the file pulled, and its graph takes use_cache_branch", async () => {
    const { yml } = await storedFiles("llama-merged");
    assert.equal((yml.model as { source: string }).source, "onnx/decoder_model_merged.onnx");
    const inspect = await runCli(["inspect", "tiny/llama-merged", "--json"], { env });
    const inputs = JSON.parse(inspect.stdout).inputs.map((i: { name: string; dtype: string }) => i.dtype);
    assert.ok(inputs.includes("bool"));
  });

  test("genai_config.json comes along; its context_length is the model's context", async () => {
    const { path, yml } = await storedFiles("llama-genai");
    const genai = JSON.parse(readFileSync(join(path, "genai_config.json"), "utf8"));
    assert.equal((yml.generation as { context_length: number }).context_length, genai.model.context_length);
    assert.equal(genai.model.context_length, 64);
    const result = await runCli(["run", "tiny/llama-genai", "--prompt", "hello ".repeat(100)], { env });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /context holds 64/);
  });
});
