/**
 * `gpux pull` + `gpux run --prompt` on tiny random-weight causal LMs served by the fake hub, against
 * transformers' own greedy generate() (test/fixtures/make_tiny_causal_lms.py): identical tokens for a plain
 * prompt and for a chat rendered by the model's template; seeded sampling; streaming; bad input.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { parse } from "yaml";
import { runCli } from "../helpers/cli.js";
import { type FakeRepo, startFakeHub } from "../helpers/fake-hub.js";
import { missingPythonModules } from "../helpers/python.js";
import { tempDir } from "../helpers/temp-dir.js";
import {
  causalLmPythonModules,
  type TinyCausalLmName,
  tinyCausalLmReference,
  tinyCausalLmRepo,
} from "../helpers/tiny-causal-lms.js";

const missing = missingPythonModules([...causalLmPythonModules]);
if (missing && process.env.GPUX_REQUIRE_PYTHON_TESTS === "1") throw new Error(missing);
const onnxModels: TinyCausalLmName[] = ["qwen3", "llama", "gpt2"];
const repos: FakeRepo[] = missing ? [] : onnxModels.map((name) => tinyCausalLmRepo(name, `tiny/${name}`));
const hub = await startFakeHub({ repos });
after(() => hub.close());
const home = tempDir();
const env = {
  HF_ENDPOINT: hub.url,
  HF_HUB_CACHE: join(home, "hf", "hub"),
  HF_TOKEN: "",
  GPUX_HOME: join(home, "gpux"),
};

interface RunJson {
  text: string;
  tokens: number[];
  finish_reason: string;
  prompt_tokens: number;
  seed: number;
  time_to_first_token_ms: number;
  decode_tokens_per_second: number;
}

async function run(args: string[]): Promise<RunJson> {
  const result = await runCli(["run", ...args, "--json"], { env, cwd: home });
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as RunJson;
}

/** generate() returns EOS when it stops on it; gpux reports the answer without it. */
function withoutEos(ids: number[], eos: number[]): number[] {
  return ids.length > 0 && eos.includes(ids[ids.length - 1] as number) ? ids.slice(0, -1) : ids;
}

describe("text generation through the CLI", { skip: missing }, () => {
  before(async () => {
    for (const name of onnxModels) {
      const pulled = await runCli(["pull", `tiny/${name}`], { env });
      assert.equal(pulled.code, 0, pulled.stderr);
    }
  });

  for (const name of onnxModels) {
    test(`${name}: greedy tokens of a plain prompt equal transformers' generate()`, async () => {
      const ref = tinyCausalLmReference(name);
      const out = await run([
        `tiny/${name}`,
        "--prompt",
        ref.plain.prompt,
        "--raw",
        "--temperature",
        "0",
        "--max-tokens",
        String(ref.max_new_tokens),
      ]);
      assert.equal(out.prompt_tokens, ref.plain.input_ids.length);
      assert.deepEqual(out.tokens, withoutEos(ref.plain.output_ids, ref.eos_token_id));
      assert.equal(out.text, ref.plain.text);
    });
  }

  for (const name of ["qwen3", "llama"] as const) {
    test(`${name}: a chat (--system + the prompt as the user turn) gives transformers' tokens`, async () => {
      const ref = tinyCausalLmReference(name);
      const chat = ref.chat;
      assert.ok(chat);
      const system = chat.messages.find((m) => m.role === "system")?.content;
      const user = chat.messages.find((m) => m.role === "user")?.content as string;
      const out = await run([
        `tiny/${name}`,
        "--prompt",
        user,
        ...(system ? ["--system", system] : []),
        "--temperature",
        "0",
        "--max-tokens",
        String(ref.max_new_tokens),
      ]);
      assert.equal(out.prompt_tokens, chat.input_ids.length);
      assert.deepEqual(out.tokens, withoutEos(chat.output_ids, ref.eos_token_id));
      assert.equal(out.text, chat.text);
    });
  }

  test("pull writes gpux.yml's generation: section from generation_config.json", async () => {
    const ls = JSON.parse((await runCli(["ls", "--json"], { env })).stdout);
    const entry = ls.models.find((m: { name: string }) => m.name === "tiny/qwen3");
    const yml = parse(readFileSync(join(entry.path, "gpux.yml"), "utf8"));
    const generationConfig = JSON.parse(readFileSync(join(entry.path, "generation_config.json"), "utf8"));
    const config = JSON.parse(readFileSync(join(entry.path, "config.json"), "utf8"));
    assert.equal(yml.task, "text-generation");
    assert.deepEqual(yml.generation, {
      temperature: generationConfig.temperature,
      top_k: generationConfig.top_k,
      top_p: generationConfig.top_p,
      eos_token_id: generationConfig.eos_token_id,
      context_length: config.max_position_embeddings,
    });
  });

  test("seeded sampling gives the same tokens on every run, another seed other tokens", async () => {
    const args = [
      "tiny/qwen3",
      "--prompt",
      "Once upon a time",
      "--raw",
      "--temperature",
      "1.5",
      "--top-k",
      "0",
    ];
    const a = await run([...args, "--seed", "7", "--max-tokens", "12"]);
    const b = await run([...args, "--seed", "7", "--max-tokens", "12"]);
    const c = await run([...args, "--seed", "8", "--max-tokens", "12"]);
    assert.equal(a.seed, 7);
    assert.deepEqual(a.tokens, b.tokens);
    assert.notDeepEqual(a.tokens, c.tokens);
    // without flags generation_config.json decides: it samples (do_sample: true), so two random seeds differ
    const d = await run(["tiny/qwen3", "--prompt", "Once upon a time", "--max-tokens", "12"]);
    const e = await run(["tiny/qwen3", "--prompt", "Once upon a time", "--max-tokens", "12"]);
    assert.notEqual(d.seed, e.seed);
  });

  test("the streamed text equals the --json text, multi-byte characters included", async () => {
    const ref = tinyCausalLmReference("qwen3");
    const args = ["run", "tiny/qwen3", "--prompt", ref.plain.prompt, "--raw", "--temperature", "0"];
    const streamed = await runCli([...args, "--max-tokens", String(ref.max_new_tokens)], { env });
    assert.equal(streamed.code, 0, streamed.stderr);
    assert.equal(streamed.stdout, `${ref.plain.text}\n`);
    assert.ok(
      Buffer.byteLength(ref.plain.text) > ref.plain.text.length,
      "the reference answer has multi-byte characters",
    );
    assert.doesNotMatch(streamed.stdout, /\uFFFD/);
  });

  test("a stop string ends the answer before it", async () => {
    const ref = tinyCausalLmReference("qwen3");
    const stop = ref.plain.text.slice(6, 9);
    const out = await run([
      "tiny/qwen3",
      "--prompt",
      ref.plain.prompt,
      "--raw",
      "--temperature",
      "0",
      "--stop",
      stop,
    ]);
    assert.equal(out.finish_reason, "stop");
    assert.equal(out.text, ref.plain.text.slice(0, ref.plain.text.indexOf(stop)));
  });

  test("--benchmark reports time to first token and decode tokens/s", async () => {
    const result = await runCli(
      ["run", "tiny/qwen3", "--benchmark", "--runs", "2", "--warmup", "0", "--max-tokens", "8", "--json"],
      { env },
    );
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout);
    assert.equal(out.runs, 2);
    assert.equal(out.new_tokens, 8);
    assert.ok(out.prompt_tokens > 50);
    assert.ok(out.time_to_first_token_ms.mean > 0);
    assert.ok(out.decode_tokens_per_second.mean > 0);
  });

  const bad: Array<[string, string[], RegExp]> = [
    ["an empty prompt", ["tiny/qwen3", "--prompt", "  "], /prompt is empty/],
    ["a negative temperature", ["tiny/qwen3", "--prompt", "hi", "--temperature", "-1"], /temperature/],
    ["top_p above 1", ["tiny/qwen3", "--prompt", "hi", "--top-p", "2"], /top_p/],
    [
      "a temperature that is not a number",
      ["tiny/qwen3", "--prompt", "hi", "--temperature", "hot"],
      /number/,
    ],
    ["max_tokens 0", ["tiny/qwen3", "--prompt", "hi", "--max-tokens", "0"], /max_tokens/],
    ["an absurd top_k", ["tiny/qwen3", "--prompt", "hi", "--top-k", "1e12"], /top_k/],
    ["max_tokens beyond the context", ["tiny/qwen3", "--prompt", "hi", "--max-tokens", "100000"], /context/],
    ["--system on a base model", ["tiny/gpt2", "--prompt", "hi", "--system", "be brief"], /no chat template/],
  ];
  for (const [what, args, message] of bad) {
    test(`run --prompt refuses ${what}: exit 1, a message, no stack`, async () => {
      const result = await runCli(["run", ...args], { env });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, message);
      assert.match(result.stderr, /^hint: /m);
      assert.doesNotMatch(result.stderr, /\n\s+at /);
      assert.equal(result.stdout, "");
    });
  }

  test("a prompt over the context is refused", async () => {
    // the tiny models hold 256 tokens (config.json max_position_embeddings / n_positions)
    for (const name of ["qwen3", "gpt2"]) {
      const result = await runCli(["run", `tiny/${name}`, "--prompt", "many words ".repeat(200)], { env });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /context holds 256/);
      assert.doesNotMatch(result.stderr, /\n\s+at /);
    }
  });

  test("gpux chat on a model without a chat template is refused", async () => {
    const result = await runCli(["chat", "tiny/gpt2"], { env, input: "hello\n" });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /no chat template/);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  });

  test("gpux chat from a pipe: two turns, the history kept, /bye leaves", async () => {
    const result = await runCli(["chat", "tiny/qwen3", "--temperature", "0", "--max-tokens", "4"], {
      env,
      input: "Say hi\nAnd again\n/bye\nnot read\n",
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.match(/>>> /g)?.length, 3, result.stdout);
  });
});
