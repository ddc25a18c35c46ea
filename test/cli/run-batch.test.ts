/**
 * `gpux run MODEL --batch IN --output OUT` on a tiny real text classifier (test/fixtures/pipeline_fixtures.py):
 * 10 000 lines answered in order and equal to `gpux run --json` line by line, 1 % malformed lines reported
 * with their numbers, and a run killed with SIGKILL then re-run finishing without redoing written lines.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { appendFileSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { cliPath, runCli } from "../helpers/cli.js";
import { pipelineFixtures } from "../helpers/pipeline-fixtures.js";
import { missingPythonModules } from "../helpers/python.js";
import { tempDir } from "../helpers/temp-dir.js";

const missing = missingPythonModules(["torch", "transformers", "tokenizers", "sentence_transformers", "PIL"]);
if (missing && process.env.GPUX_REQUIRE_PYTHON_TESTS === "1") throw new Error(missing);

const words = [
  "good",
  "bad",
  "movie",
  "great",
  "awful",
  "plot",
  "actors",
  "really",
  "not",
  "the",
  "a",
  "fun",
];

/** 10 000 lines of varied length; every 100th (from line 37) malformed in one of three ways. */
function batchFile(dir: string): { path: string; bad: number[]; texts: Map<number, string> } {
  const lines: string[] = [];
  const bad: number[] = [];
  const texts = new Map<number, string>();
  for (let n = 1; n <= 10_000; n++) {
    if (n % 100 === 37) {
      bad.push(n);
      lines.push([`{"text": "cut off`, `{"txt": "wrong field"}`, "[1, 2, 3]"][bad.length % 3] as string);
      continue;
    }
    const length = 1 + ((n * 7) % 23);
    const text = Array.from({ length }, (_, i) => words[(n * 31 + i * 17) % words.length]).join(" ");
    texts.set(n, text);
    lines.push(JSON.stringify({ text }));
  }
  const path = join(dir, "in.jsonl");
  writeFileSync(path, `${lines.join("\n")}\n`);
  return { path, bad, texts };
}

interface AnswerLine {
  line: number;
  model: string;
  provider: string;
  elapsed_ms: number;
  result: { label: string; score: number };
}

const readJsonLines = <T>(path: string): T[] =>
  readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as T);

describe("run --batch", { skip: missing }, () => {
  let model = "";
  // made at the top of the file: a temp folder made in a hook is removed when the hook ends
  const input = batchFile(tempDir());
  before(() => {
    model = join(pipelineFixtures(), "text-classification");
  });

  test("10 000 lines: every good line answered in order, as `run --json` answers it; bad lines by number", async () => {
    const dir = tempDir();
    const output = join(dir, "out.jsonl");
    const run = await runCli(["run", model, "--batch", input.path, "--output", output, "--json"]);
    assert.equal(run.code, 0, run.stdout.slice(-2000));
    const events = run.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const result = events.at(-1);
    assert.equal(result.event, "result");
    assert.equal(result.answered, 9_900);
    assert.equal(result.errors, 100);
    assert.equal(result.resumed_after, 0);
    assert.ok(events.slice(0, -1).every((e) => e.event === "progress" && e.phase === "batch"));

    const answers = readJsonLines<AnswerLine>(output);
    assert.deepEqual(
      answers.map((a) => a.line),
      [...input.texts.keys()],
    );
    assert.ok(answers.every((a) => a.model === "text-classification" && a.provider === "cpu"));
    const errors = readJsonLines<{ line: number; error: { message: string; hint: string } }>(
      `${output}.errors`,
    );
    assert.deepEqual(
      errors.map((e) => e.line),
      input.bad,
    );
    assert.match(errors.find((e) => e.line === input.bad[0])?.error.message ?? "", /./);
    const messages = new Set(errors.map((e) => e.error.message.replace(/:.*$/s, "")));
    assert.ok(messages.has("The line is not valid JSON"), [...messages].join(" | "));
    assert.ok(messages.has("The line is not a JSON object."), [...messages].join(" | "));
    // the wrong field is refused by the model's pipeline, which names it and the fields it takes
    const wrongField = errors.find((e) => /'txt'/.test(e.error.message));
    assert.match(wrongField?.error.hint ?? "", /'text'/);

    // sampled lines, one `gpux run --json` each: the same labels, the same scores (batching pads: 1e-5)
    for (const n of [1, 2, 999, 5_000, 10_000]) {
      const single = await runCli([
        "run",
        model,
        "--input",
        JSON.stringify({ text: input.texts.get(n) }),
        "--json",
      ]);
      assert.equal(single.code, 0, single.stderr);
      const expected = JSON.parse(single.stdout);
      const got = answers.find((a) => a.line === n) as AnswerLine;
      assert.deepEqual(Object.keys(got).sort(), ["line", ...Object.keys(expected)].sort());
      assert.equal(got.result.label, expected.result.label, `line ${n}`);
      const diff = Math.abs(got.result.score - expected.result.score);
      assert.ok(diff < 1e-5, `line ${n}: ${got.result.score} vs ${expected.result.score}`);
    }
  });

  test("killed with SIGKILL mid-way, then re-run: finishes without redoing the lines written", async () => {
    const dir = tempDir();
    const output = join(dir, "out.jsonl");
    const child = spawn(
      process.execPath,
      [cliPath, "run", model, "--batch", input.path, "--output", output],
      {
        stdio: "ignore",
      },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on("exit", (_code, signal) => resolve(signal)),
    );
    // kill it once a few hundred answers are on disk (the whole run takes several seconds)
    for (let size = 0; size < 40_000; ) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      try {
        size = statSync(output).size;
      } catch {
        size = 0;
      }
    }
    child.kill("SIGKILL");
    assert.equal(await exited, "SIGKILL", "the run was still going when killed");

    const before = readFileSync(output, "utf8");
    const whole = before.slice(0, before.lastIndexOf("\n") + 1);
    const written = whole
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as AnswerLine);
    const lastWritten = Math.max(
      written.at(-1)?.line ?? 0,
      ...readJsonLines<{ line: number }>(`${output}.errors`).map((e) => e.line),
    );
    assert.ok(written.length > 0 && lastWritten < 10_000);

    const rerun = await runCli(["run", model, "--batch", input.path, "--output", output, "--json"]);
    assert.equal(rerun.code, 0, rerun.stderr);
    const result = JSON.parse(rerun.stdout.trim().split("\n").at(-1) as string);
    assert.equal(result.resumed_after, lastWritten);
    const badAfter = input.bad.filter((n) => n > lastWritten).length;
    assert.equal(result.answered + result.errors, 10_000 - lastWritten);
    assert.equal(result.errors, badAfter);

    const after = readFileSync(output, "utf8");
    assert.ok(after.startsWith(whole), "the lines written before the kill are kept as they were");
    const answers = readJsonLines<AnswerLine>(output);
    assert.deepEqual(
      answers.map((a) => a.line),
      [...input.texts.keys()],
      "every good line once, in order",
    );
    assert.deepEqual(
      readJsonLines<{ line: number }>(`${output}.errors`).map((e) => e.line),
      input.bad,
    );
  });

  test("a half line left by a kill is cut off and answered again; --errors names the errors file", async () => {
    const dir = tempDir();
    const small = join(dir, "small.jsonl");
    writeFileSync(
      small,
      `${JSON.stringify({ text: "good" })}\n\nnot json\n${JSON.stringify({ text: "bad" })}\n`,
    );
    const output = join(dir, "out.jsonl");
    const errors = join(dir, "failed.jsonl");
    writeFileSync(output, `${JSON.stringify({ line: 1, result: "kept" })}\n{"line": 4, "resu`);
    const run = await runCli(["run", model, "--batch", small, "--output", output, "--errors", errors]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stderr,
      /answered 1 of 2 lines .*resumed after line 1.*1 line failed: see .*failed\.jsonl/,
    );
    const answers = readJsonLines<{ line: number; result: unknown }>(output);
    assert.deepEqual(
      answers.map((a) => a.line),
      [1, 4],
    );
    assert.equal(answers[0]?.result, "kept");
    assert.deepEqual(
      readJsonLines<{ line: number }>(errors).map((e) => e.line),
      [3],
    );
    appendFileSync(small, `${JSON.stringify({ text: "more" })}\n`);
    const again = await runCli([
      "run",
      model,
      "--batch",
      small,
      "--output",
      output,
      "--errors",
      errors,
      "--json",
    ]);
    assert.equal(JSON.parse(again.stdout.trim().split("\n").at(-1) as string).answered, 1);
    assert.equal(readJsonLines<{ line: number }>(output).at(-1)?.line, 5);
  });

  test("flags: --batch needs --output and refuses single-request flags; batch flags need --batch", async () => {
    const noOutput = await runCli(["run", model, "--batch", input.path]);
    assert.equal(noOutput.code, 1);
    assert.match(noOutput.stderr, /--batch needs --output/);
    const withText = await runCli(["run", model, "--batch", input.path, "-o", "x.jsonl", "--text", "hi"]);
    assert.equal(withText.code, 1);
    assert.match(withText.stderr, /--text does not go with --batch/);
    const alone = await runCli(["run", model, "--text", "hi", "--max-batch-size", "4"]);
    assert.equal(alone.code, 1);
    assert.match(alone.stderr, /--max-batch-size applies to --batch only/);
    const missingFile = await runCli([
      "run",
      model,
      "--batch",
      "/nonexistent.jsonl",
      "-o",
      join(tempDir(), "o"),
    ]);
    assert.equal(missingFile.code, 2);
    assert.match(missingFile.stderr, /Cannot read batch file/);
  });
});
