/**
 * `gpux run MODEL --batch` on a tiny random-weight causal LM (pulled from the fake hub): one completion per line,
 * `{"prompt"}` or `{"messages"}`, each equal to `gpux run --prompt --json` greedy; a line with neither is reported.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { runCli } from "../helpers/cli.js";
import { startFakeHub } from "../helpers/fake-hub.js";
import { missingPythonModules } from "../helpers/python.js";
import { tempDir } from "../helpers/temp-dir.js";
import { causalLmPythonModules, tinyCausalLmRepo } from "../helpers/tiny-causal-lms.js";

const missing = missingPythonModules([...causalLmPythonModules]);
if (missing && process.env.GPUX_REQUIRE_PYTHON_TESTS === "1") throw new Error(missing);
const hub = await startFakeHub({ repos: missing ? [] : [tinyCausalLmRepo("qwen3", "tiny/qwen3")] });
after(() => hub.close());

test("a generation model: one completion per line, as run --prompt --json gives it", {
  skip: missing,
}, async () => {
  const home = tempDir();
  const env = {
    HF_ENDPOINT: hub.url,
    HF_HUB_CACHE: join(home, "hf", "hub"),
    HF_TOKEN: "",
    GPUX_HOME: join(home, "gpux"),
  };
  const pulled = await runCli(["pull", "tiny/qwen3"], { env });
  assert.equal(pulled.code, 0, pulled.stderr);
  const greedy = ["--temperature", "0", "--max-tokens", "6"];
  const input = join(home, "prompts.jsonl");
  writeFileSync(
    input,
    [
      JSON.stringify({ prompt: "The capital of France is" }),
      JSON.stringify({ nothing: true }),
      JSON.stringify({ messages: [{ role: "user", content: "Say hi" }] }),
      JSON.stringify({ prompt: "Say hi", system: "Be brief." }),
    ].join("\n"),
  );
  const output = join(home, "answers.jsonl");
  const run = await runCli(["run", "tiny/qwen3", "--batch", input, "--output", output, ...greedy], { env });
  assert.equal(run.code, 0, run.stderr);
  const answers = readFileSync(output, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.deepEqual(
    answers.map((a) => a.line),
    [1, 3, 4],
  );
  const errors = readFileSync(`${output}.errors`, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  assert.equal(errors.length, 1);
  assert.equal(errors[0].line, 2);
  assert.match(errors[0].error.message, /needs "prompt".*or "messages"/);

  const single = async (args: string[]) => {
    const result = await runCli(["run", "tiny/qwen3", ...args, ...greedy, "--json"], { env });
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout);
  };
  const plain = await single(["--prompt", "The capital of France is"]);
  assert.deepEqual(answers[0].tokens, plain.tokens);
  assert.equal(answers[0].text, plain.text);
  assert.deepEqual(Object.keys(answers[0]).sort(), ["line", ...Object.keys(plain)].sort());
  // {"messages": [one user turn]} is what --prompt makes of the same text
  const chat = await single(["--prompt", "Say hi"]);
  assert.deepEqual(answers[1].tokens, chat.tokens);
  assert.equal(answers[1].prompt_tokens, chat.prompt_tokens);
  const withSystem = await single(["--prompt", "Say hi", "--system", "Be brief."]);
  assert.deepEqual(answers[2].tokens, withSystem.tokens);
  assert.equal(answers[2].prompt_tokens, withSystem.prompt_tokens);
});
