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
  const env = await pulledEnv();
  const home = tempDir();
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

/** A GPUX_HOME with tiny/qwen3 pulled, made once for the tests below. */
let pulledHome: Promise<Record<string, string>> | undefined;
function pulledEnv(): Promise<Record<string, string>> {
  pulledHome ??= (async () => {
    const home = tempDir();
    const env = {
      HF_ENDPOINT: hub.url,
      HF_HUB_CACHE: join(home, "hf", "hub"),
      HF_TOKEN: "",
      GPUX_HOME: join(home, "gpux"),
    };
    const pulled = await runCli(["pull", "tiny/qwen3"], { env });
    assert.equal(pulled.code, 0, pulled.stderr);
    return env;
  })();
  return pulledHome;
}

const readJsonLines = (path: string) =>
  readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));

test("generation lines decode together (continuous batching): the answers one sequence at a time gives, in input order, and a re-run resumes", {
  skip: missing,
}, async () => {
  const env = await pulledEnv();
  const work = tempDir();
  const prompts = [
    "The capital of France is",
    "héllo 你好 🙂",
    "One two three four five six seven eight nine ten",
    "Say hi",
    "Why is the sky blue? Answer in one long sentence please.",
    "a",
    "Write a haiku about the sea",
  ];
  const input = join(work, "prompts.jsonl");
  // the fourth line asks for fewer tokens of its own: it finishes first, and still comes out fourth
  writeFileSync(
    input,
    prompts.map((prompt, i) => JSON.stringify(i === 3 ? { prompt, max_tokens: 2 } : { prompt })).join("\n"),
  );
  const greedy = ["--temperature", "0", "--max-tokens", "8"];
  const batch = async (output: string, concurrent: number) => {
    const run = await runCli(
      [
        "run",
        "tiny/qwen3",
        "--batch",
        input,
        "--output",
        output,
        ...greedy,
        "--max-concurrent-sequences",
        String(concurrent),
      ],
      { env },
    );
    assert.equal(run.code, 0, run.stderr);
    return readJsonLines(output);
  };
  const together = await batch(join(work, "together.jsonl"), 4);
  const alone = await batch(join(work, "alone.jsonl"), 1);
  assert.deepEqual(
    together.map((a) => a.line),
    [1, 2, 3, 4, 5, 6, 7],
  );
  assert.deepEqual(
    together.map((a) => a.tokens),
    alone.map((a) => a.tokens),
  );
  assert.equal(together[3].completion_tokens, 2);
  assert.ok(together.every((a, i) => i === 3 || a.completion_tokens > 2));

  // a kill after three lines and half of the fourth: the re-run answers the rest, the same way
  const cut = join(work, "cut.jsonl");
  const kept = readFileSync(join(work, "together.jsonl"), "utf8").split("\n").slice(0, 3).join("\n");
  writeFileSync(cut, `${kept}\n{"line": 4, "tok`);
  const resumed = await batch(cut, 4);
  assert.deepEqual(
    resumed.map((a) => a.tokens),
    together.map((a) => a.tokens),
  );
});

test("--line-timeout: a generation line past its limit goes to the errors file with its number, the run goes on", {
  skip: missing,
}, async () => {
  const env = await pulledEnv();
  const work = tempDir();
  const input = join(work, "prompts.jsonl");
  writeFileSync(
    input,
    [
      JSON.stringify({ prompt: "The capital of France is", max_tokens: 3 }),
      JSON.stringify({ prompt: "Tell me a long story", max_tokens: 200 }),
      JSON.stringify({ prompt: "Say hi", max_tokens: 3 }),
      JSON.stringify({ prompt: "Say hi", max_tokens: "many" }),
    ].join("\n"),
  );
  const batch = (output: string, extra: string[] = []) =>
    runCli(["run", "tiny/qwen3", "--batch", input, "--output", output, "--temperature", "0", ...extra], {
      env,
    });
  // first without a limit: how long the short lines and the long one take on this machine, now
  const free = await batch(join(work, "free.jsonl"));
  assert.equal(free.code, 0, free.stderr);
  const took = new Map(readJsonLines(join(work, "free.jsonl")).map((a) => [a.line, a.total_ms as number]));
  const [short, long] = [Math.max(took.get(1) ?? 0, took.get(3) ?? 0), took.get(2) ?? 0];
  assert.ok(long > 4 * short, `200 tokens (${long} ms) should take far longer than 3 (${short} ms)`);
  // a limit between the two (their geometric mean): the short lines finish within it, the long one does not
  const limit = (Math.sqrt(short * long) / 1000).toFixed(3);
  const output = join(work, "answers.jsonl");
  const run = await batch(output, ["--line-timeout", limit, "--json"]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(
    readJsonLines(output).map((a) => [a.line, a.completion_tokens]),
    [
      [1, 3],
      [3, 3],
    ],
  );
  const errors = readJsonLines(`${output}.errors`);
  assert.deepEqual(
    errors.map((e) => e.line),
    [2, 4],
  );
  assert.match(
    errors[0].error.message,
    new RegExp(`took longer than its ${Number(limit)} s limit \\(--line-timeout\\)`),
  );
  assert.match(errors[0].error.hint, /--line-timeout/);
  assert.match(errors[1].error.message, /Invalid max_tokens "many"/);
  const result = JSON.parse(run.stdout.trim().split("\n").at(-1) as string);
  assert.deepEqual([result.answered, result.errors], [2, 2]);
});

test("--line-timeout on lines that all run long: each is timed out, none refused as a full queue", {
  skip: missing,
}, async () => {
  const env = await pulledEnv();
  const work = tempDir();
  const input = join(work, "long.jsonl");
  const prompts = Array.from({ length: 6 }, (_, i) => ({ prompt: `Tell me story ${i}`, max_tokens: 200 }));
  writeFileSync(input, prompts.map((p) => JSON.stringify(p)).join("\n"));
  const output = join(work, "answers.jsonl");
  // one sequence at a time: an aborted one still holds its slot until the loop's next step, when the next
  // line already comes (before the fix, lines 3 and 5 were refused: "Too many generation requests")
  const run = await runCli(
    [
      "run",
      "tiny/qwen3",
      "--batch",
      input,
      "--output",
      output,
      "--temperature",
      "0",
      "--max-concurrent-sequences",
      "1",
      "--line-timeout",
      "0.2",
    ],
    { env },
  );
  assert.equal(run.code, 0, run.stderr);
  const errors = readJsonLines(`${output}.errors`);
  const answered = readFileSync(output, "utf8").trim().split("\n").filter(Boolean).length;
  assert.equal(answered + errors.length, 6);
  assert.ok(errors.length > 0, "200 tokens should take longer than 0.2 s");
  for (const error of errors) assert.match(error.error.message, /took longer than its 0\.2 s limit/);
});
