/**
 * bench/batch-generate: `gpux run MODEL --batch` on a text-generation model, one line at a time
 * (`--max-concurrent-sequences 1`) against lines decoding together (continuous batching, 4 and 8 at once), side
 * by side in one run; greedy, so every mode must give the same tokens (checked). The machine is shared: compare
 * the ratios, not absolute figures.
 *
 *   npm run build && npx tsx bench/batch-generate.ts [--lines 16] [--max-tokens 32] [--concurrency 1,4,8]
 *
 * The model is bench/generate-model.ts's (~130 M Qwen3-shaped, random weights). Each line is a different slice
 * of the README's prose; throughput is over the batch time the CLI reports (`elapsed_ms` of its result event:
 * reading, prefill, decoding, writing), not process start and model load.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { formatTable } from "../src/cli/format-table.js";
import { repoRoot } from "../test/helpers/cli.js";
import { benchGenerateModel } from "./generate-model.js";

const args = process.argv.slice(2);
const flag = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] as string) : fallback;
};
const lines = Number(flag("lines", "16"));
const maxTokens = flag("max-tokens", "32");
const levels = flag("concurrency", "1,4,8").split(",").map(Number);

const model = benchGenerateModel();
const work = join(repoRoot, "bench-output", "batch-generate");
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const prose = readFileSync(join(repoRoot, "README.md"), "utf8").replace(/\s+/g, " ");
const input = join(work, "prompts.jsonl");
writeFileSync(
  input,
  Array.from({ length: lines }, (_, i) =>
    JSON.stringify({ prompt: prose.slice(i * 150, i * 150 + 120) }),
  ).join("\n"),
);

interface Answer {
  tokens: number[];
}

/** One `run --batch` at `concurrency`: its answers and the batch time it reports. */
function runBatch(concurrency: number): { answers: Answer[]; elapsedMs: number } {
  const output = join(work, `answers-${concurrency}.jsonl`);
  const cli = join(repoRoot, "dist", "cli", "main.js");
  const flags = ["--temperature", "0", "--max-tokens", maxTokens, "--json"];
  const result = spawnSync(
    process.execPath,
    [
      cli,
      "run",
      model,
      "--batch",
      input,
      "--output",
      output,
      "--max-concurrent-sequences",
      String(concurrency),
      ...flags,
    ],
    { encoding: "utf8" },
  );
  if (result.status !== 0) throw new Error(result.stderr);
  const events = result.stdout
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));
  const answers = readFileSync(output, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Answer);
  return { answers, elapsedMs: events.at(-1).elapsed_ms as number };
}

const runs = levels.map((concurrency) => ({ concurrency, ...runBatch(concurrency) }));
const first = runs[0] as (typeof runs)[number];
const same = runs.every((run) =>
  run.answers.every((a, i) => JSON.stringify(a.tokens) === JSON.stringify(first.answers[i]?.tokens)),
);
const rows = runs.map((run) => {
  const tokens = run.answers.reduce((sum, a) => sum + a.tokens.length, 0);
  const seconds = run.elapsedMs / 1000;
  return [
    String(run.concurrency),
    (lines / seconds).toFixed(2),
    (tokens / seconds).toFixed(1),
    `${(first.elapsedMs / run.elapsedMs).toFixed(2)}x`,
  ];
});
process.stdout.write(
  `${lines} lines, up to ${maxTokens} new tokens each, greedy\n\n` +
    `${formatTable(["concurrent sequences", "lines/s", "tokens/s", "vs one at a time"], rows)}\n\n` +
    `same tokens in every mode: ${same ? "yes" : "NO"}\n`,
);
if (!same) process.exitCode = 1;
