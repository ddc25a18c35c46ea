/**
 * Continuous batching measured as users see it: the built `gpux serve` (a child process) answering 1, 4 and 8
 * concurrent streamed /v1/completions, /health probed every ~50 ms meanwhile, beside the floor: a minimal
 * batched onnxruntime-node greedy loop at batch 1, 4 and 8 (the B prompts prefilled in one pass, then one pass
 * per step for all rows, present fed back, argmax), in this process. With `--in-process`, also
 * GenerationScheduler called directly (what the server's generation worker runs), without HTTP. Same ~130 M
 * model as bench/generate.ts, 128-token prompts (B different ones), 64 new greedy tokens each; the kinds
 * alternate round by round. Decode tok/s = Σ(new tokens after the first) / (last token − last first token):
 * the span where every sequence is decoding, as for the floor. End-to-end tok/s = every new token / (last
 * token − start). TTFT over HTTP: request sent → first chunk with text. The floor ignores EOS, the server does
 * not (OpenAI's API has no such field): "same tokens" says whether every answer still had the floor's tokens.
 * The c=1 TTFT target is decided apart, request by request: `--pairs` pairs of one floor prefill (batch 1)
 * and one gpux request's TTFT (max_tokens 1), back to back, the order swapped every other pair, /health
 * probed throughout (both sides see the same background); the median of the paired differences with its
 * 95 % bootstrap interval: PASS when the interval's upper end is ≤ 10 ms, MISS when its lower end is above.
 * The floor's prefill fetches every position's logits, as the minimal loop does; gpux's skips all but the
 * last (DecoderSession), so gpux's TTFT can come in under it.
 * Run: npm run build && npx tsx bench/serve-generate.ts [rounds=1] [--pairs 40] [--in-process] [--worker-nice 10]
 * (needs Python with torch + transformers for the export, once; GPUX_BENCH_GENERATE_MODEL=DIR reuses one)
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { formatTable } from "../src/cli/format-table.js";
import { loadConfig } from "../src/config/load-config.js";
import { packCacheRows, rowsOf } from "../src/engine/generation/batch-cache.js";
import { GenerationScheduler } from "../src/engine/generation/generation-scheduler.js";
import type { GenerationSummary } from "../src/engine/generation/generator.js";
import { loadGenerator } from "../src/engine/generation/load-generator.js";
import { Model } from "../src/engine/model.js";
import { medianInterval, percentile } from "./bootstrap.js";
import { benchGenerateModel, promptsOfLength } from "./generate-model.js";
import {
  HealthProbe,
  httpTrial,
  predictGreedy,
  startGpuxServe,
  streamCompletion,
  type Trial,
} from "./serve-generate-http.js";

const rounds = Number(process.argv.slice(2).find((arg) => /^\d+$/.test(arg)) ?? 1);
const inProcess = process.argv.includes("--in-process");
/** The server's worker priority: 10 is what users get (the HTTP thread stays ahead); 0 runs it as the floor runs. */
const niceAt = process.argv.indexOf("--worker-nice");
const workerNice = niceAt > 0 ? String(Number(process.argv[niceAt + 1])) : "10";
const pairsAt = process.argv.indexOf("--pairs");
const pairs = pairsAt > 0 ? Number(process.argv[pairsAt + 1]) : 40;
/** The issue's allowance over the floor's batch-1 prefill for c=1 TTFT. */
const ttftAllowanceMs = 10;
const promptTokens = 128;
const newTokens = 64;
const widths = [1, 4, 8];

const now = () => performance.now();
const median = (values: number[]) => percentile(values, 50);

const dir = benchGenerateModel();
const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
const model = await Model.load(await loadConfig(join(dir, "gpux.yml")));
const generator = loadGenerator(model);
const prompts = promptsOfLength(generator, promptTokens, Math.max(...widths));
const floorSession = await ort.InferenceSession.create(join(dir, "onnx", "model.onnx"), {
  graphOptimizationLevel: "all",
});
const layers = config.num_hidden_layers as number;
const cacheNames = Array.from({ length: layers }, (_, i) => [
  `past_key_values.${i}.key`,
  `past_key_values.${i}.value`,
]).flat();
/** The floor's last b8 cache, for timing a join and a leave (a cache rebuild) at a real size. */
let lastFloorCache: { past: Record<string, ort.Tensor>; width: number } | undefined;

/** The floor: B prompts of equal length in one prefill pass, then one pass per token for all B rows. */
async function floorTrial(batch: number, tokens = newTokens): Promise<Trial> {
  const heads = config.num_key_value_heads as number;
  const headDim = config.head_dim as number;
  let past: Record<string, ort.Tensor> = {};
  for (const name of cacheNames) {
    past[name] = new ort.Tensor("float32", new Float32Array(0), [batch, heads, 0, headDim]);
  }
  const rows = prompts.slice(0, batch).map((p) => p.ids);
  const out: number[][] = rows.map(() => []);
  const start = now();
  let first = 0;
  let input = rows;
  let length = 0;
  while ((out[0] as number[]).length < tokens) {
    const step = (input[0] as number[]).length;
    const total = length + step;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor("int64", BigInt64Array.from(input.flat(), BigInt), [batch, step]),
      attention_mask: new ort.Tensor("int64", new BigInt64Array(batch * total).fill(1n), [batch, total]),
      position_ids: new ort.Tensor(
        "int64",
        BigInt64Array.from({ length: batch * step }, (_, i) => BigInt(length + (i % step))),
        [batch, step],
      ),
      ...past,
    };
    const result = await floorSession.run(feeds);
    const logits = result.logits as ort.Tensor;
    const vocab = logits.dims[2] as number;
    const data = logits.data as Float32Array;
    const next: number[][] = [];
    for (let row = 0; row < batch; row++) {
      const offset = (row * step + step - 1) * vocab;
      let best = 0;
      for (let v = 1; v < vocab; v++)
        if ((data[offset + v] as number) > (data[offset + best] as number)) best = v;
      out[row]?.push(best);
      next.push([best]);
    }
    if (first === 0) first = now();
    past = {};
    for (let i = 0; i < layers; i++) {
      past[`past_key_values.${i}.key`] = result[`present.${i}.key`] as ort.Tensor;
      past[`past_key_values.${i}.value`] = result[`present.${i}.value`] as ort.Tensor;
    }
    length = total;
    input = next;
  }
  const end = now();
  if (batch === Math.max(...widths)) lastFloorCache = { past, width: length };
  return {
    ttftMs: rows.map(() => first - start),
    decodeTokensPerSecond: (batch * (tokens - 1) * 1000) / (end - first),
    endToEndTokensPerSecond: (batch * tokens * 1000) / (end - start),
    tokens: out,
  };
}

const maxWidth = Math.max(...widths);
const texts = prompts.map((prompt) => prompt.text);
const scheduler = new GenerationScheduler(generator, {
  maxConcurrentSequences: maxWidth,
  maxWaitingSequences: 0,
});

/** C concurrent requests through the scheduler, prompt text in (tokenization inside the TTFT). */
async function schedulerTrial(concurrency: number, tokens = newTokens): Promise<Trial> {
  const start = now();
  const summaries = await Promise.all(
    prompts.slice(0, concurrency).map(async (prompt) => {
      const stream = scheduler.submit({
        input: { prompt: prompt.text },
        sampling: { temperature: 0, maxTokens: tokens, ignoreEos: true },
      });
      for await (const event of stream) if (event.type === "done") return event as GenerationSummary;
      throw new Error("generation ended without a summary");
    }),
  );
  // summaries time from each request's start, which is `start` to within a tokenization
  const firsts = summaries.map((s) => start + s.timeToFirstTokenMs);
  const lasts = summaries.map((s, i) => (firsts[i] as number) + s.decodeMs);
  const decoded = summaries.reduce((sum, s) => sum + s.tokenIds.length - 1, 0);
  return {
    ttftMs: summaries.map((s) => s.timeToFirstTokenMs),
    decodeTokensPerSecond: (decoded * 1000) / (Math.max(...lasts) - Math.max(...firsts)),
    endToEndTokensPerSecond: ((decoded + concurrency) * 1000) / (Math.max(...lasts) - start),
    tokens: summaries.map((s) => s.tokenIds),
  };
}

// The server as users run it, but for the bounds: every concurrency admitted at once, none waiting, and no
// 504 for the eighth prompt's first token (the prefills run one after the other: 8 x 5 s on a loaded CPU).
const serve = await startGpuxServe(dir, [
  "--max-concurrent-sequences",
  String(maxWidth),
  "--max-waiting-sequences",
  "0",
  "--timeout-ms",
  "600000",
  "--worker-nice",
  workerNice,
]);

const probe = new HealthProbe(serve);

type Kind = [name: string, width: number, trial: (tokens?: number) => Promise<Trial>];
const kinds: Kind[] = [
  ...widths.map((b): Kind => [`floor batch ${b}`, b, (t) => floorTrial(b, t)]),
  ...widths.map(
    (c): Kind => [
      `gpux serve HTTP c=${c}`,
      c,
      (t) => httpTrial(serve, probe, texts.slice(0, c), t ?? newTokens),
    ],
  ),
  ...(inProcess ? widths.map((c): Kind => [`gpux scheduler c=${c}`, c, (t) => schedulerTrial(c, t)]) : []),
];
for (const [, , trial] of kinds) await trial(2); // warm-up, untimed: first-run allocations at each width
const results = new Map<string, Trial[]>(kinds.map(([name]) => [name, []]));
for (let round = 0; round < rounds; round++) {
  for (let i = 0; i < kinds.length; i++) {
    const [name, , trial] = kinds[(i + round) % kinds.length] as (typeof kinds)[number];
    results.get(name)?.push(await trial());
    process.stderr.write(`round ${round + 1}: ${name} done\n`);
  }
}
// c=1 TTFT, pair by pair: the floor's prefill and gpux's first token measured back to back, the same prompt
const pairedTtft: Array<{ floor: number; gpux: number }> = [];
const floorPrefillMs = async () => median((await floorTrial(1, 1)).ttftMs);
const gpuxTtftMs = async () => {
  const answer = await streamCompletion(serve, texts[0] as string, 1);
  return answer.firstAt - answer.sentAt;
};
probe.start();
for (let pair = 0; pair < pairs; pair++) {
  if (pair % 2 === 0) {
    const floor = await floorPrefillMs();
    pairedTtft.push({ floor, gpux: await gpuxTtftMs() });
  } else {
    const gpux = await gpuxTtftMs();
    pairedTtft.push({ floor: await floorPrefillMs(), gpux });
  }
}
const pairsHealthMs = await probe.stop();
await probe.close();
process.stderr.write(`${pairs} TTFT pairs done\n`);

// what every stream must have said: the server's greedy answers, token ids and all (untimed, all at once)
const greedy = await Promise.all(prompts.map((prompt) => predictGreedy(serve, prompt.text, newTokens)));
await serve.stop();

const floorOf = (width: number) => results.get(`floor batch ${width}`) as Trial[];
const figure = (trials: Trial[], pick: (t: Trial) => number) => median(trials.map(pick));
const floorPrefillB1 = figure(floorOf(1), (t) => median(t.ttftMs));
const joined = (rows: number[][]) => rows.map((ids) => ids.join()).join("|");
/** Every sequence gave the floor's tokens at the same width (over HTTP: /predict's, which equal the floor's). */
function sameTokens(name: string, width: number, trials: Trial[]): boolean {
  const floorTokens = floorOf(width)[0]?.tokens as number[][];
  if (name.startsWith("floor"))
    return trials.every((t) => joined(t.tokens as number[][]) === joined(floorTokens));
  if (trials[0]?.texts === undefined)
    return trials.every((t) => joined(t.tokens as number[][]) === joined(floorTokens));
  const predicted = greedy.slice(0, width);
  return (
    joined(predicted.map((g) => g.tokens)) === joined(floorTokens) &&
    trials.every((t) => t.texts?.every((text, i) => text === predicted[i]?.text))
  );
}

interface Row {
  name: string;
  width: number;
  ttftP50: number;
  decode: number;
  healthP99?: number;
  same: boolean;
}
const measured: Row[] = kinds.map(([name, width]) => {
  const trials = results.get(name) as Trial[];
  const health = trials.flatMap((t) => t.healthMs ?? []);
  return {
    name,
    width,
    ttftP50: figure(trials, (t) => median(t.ttftMs)),
    decode: figure(trials, (t) => t.decodeTokensPerSecond),
    healthP99: health.length > 0 ? percentile(health, 99) : undefined,
    same: sameTokens(name, width, trials),
  };
});
const rowOf = (name: string) => measured.find((row) => row.name === name) as Row;
const rows = measured.map((row) => {
  const trials = results.get(row.name) as Trial[];
  const family = row.name.replace(/ (batch|c=)\d+$/, "");
  const c1 = family.startsWith("floor") ? undefined : rowOf(`${family} c=1`);
  return [
    row.name,
    row.ttftP50.toFixed(0),
    row.decode.toFixed(1),
    `${(row.decode / rowOf(`floor batch ${row.width}`).decode).toFixed(2)}x`,
    c1 ? `${(row.decode / c1.decode).toFixed(2)}x` : "",
    figure(trials, (t) => t.endToEndTokensPerSecond).toFixed(1),
    row.healthP99 !== undefined ? row.healthP99.toFixed(1) : "",
    row.same ? "yes" : "NO",
  ];
});

/** Each of the issue's targets for one family of rows (HTTP, or the scheduler in process). */
function targets(family: string): string[][] {
  const [c1, c8] = [rowOf(`${family} c=1`), rowOf(`${family} c=${maxWidth}`)];
  const [b1, b8] = [rowOf("floor batch 1"), rowOf(`floor batch ${maxWidth}`)];
  const verdict = (pass: boolean) => (pass ? "PASS" : "MISS");
  const lines = [
    [
      `c=1 decode ≥ 0.9x floor b1`,
      `${(c1.decode / b1.decode).toFixed(2)}x`,
      verdict(c1.decode >= 0.9 * b1.decode),
    ],
    [`c=8 decode ≥ 3x c=1`, `${(c8.decode / c1.decode).toFixed(2)}x`, verdict(c8.decode >= 3 * c1.decode)],
    [
      `c=8 decode ≥ 0.8x floor b8`,
      `${(c8.decode / b8.decode).toFixed(2)}x`,
      verdict(c8.decode >= 0.8 * b8.decode),
    ],
    [
      `c=1 TTFT p50 ≤ floor b1 prefill + ${ttftAllowanceMs} ms (medians of the table)`,
      `${c1.ttftP50.toFixed(0)} vs ${floorPrefillB1.toFixed(0)} ms`,
      "(see pairs)",
    ],
  ];
  if (family === "gpux serve HTTP") {
    lines.push([
      `c=1 TTFT − floor b1 prefill ≤ ${ttftAllowanceMs} ms (${pairedTtft.length} pairs)`,
      `${pairedGap.toFixed(1)} ms [${pairedLow.toFixed(1)}, ${pairedHigh.toFixed(1)}]`,
      pairedHigh <= ttftAllowanceMs ? "PASS" : pairedLow > ttftAllowanceMs ? "MISS" : "undecided",
    ]);
    const worst = Math.max(...widths.map((c) => rowOf(`${family} c=${c}`).healthP99 as number));
    lines.push([
      `/health p99 < 20 ms (worst of c=1, 4, 8 and the pairs)`,
      `${Math.max(worst, pairsHealthP99).toFixed(1)} ms`,
      verdict(Math.max(worst, pairsHealthP99) < 20),
    ]);
  }
  const same = widths.every((c) => rowOf(`${family} c=${c}`).same);
  lines.push(["every answer the floor's tokens", same ? "yes" : "no", verdict(same)]);
  return lines.map((line) => [family, ...line]);
}
const differences = pairedTtft.map((pair) => pair.gpux - pair.floor);
const pairedGap = median(differences);
const [pairedLow, pairedHigh] = medianInterval(differences);
const pairsHealthP99 = percentile(pairsHealthMs, 99);
const httpHealth = kinds.flatMap(([name]) => (results.get(name) as Trial[]).flatMap((t) => t.healthMs ?? []));
const healthLine =
  `/health p99 ms: ${widths.map((c) => `c=${c} ${rowOf(`gpux serve HTTP c=${c}`).healthP99?.toFixed(1)}`).join(", ")}, ` +
  `TTFT pairs ${pairsHealthP99.toFixed(1)}, overall ${percentile([...httpHealth, ...pairsHealthMs], 99).toFixed(1)} ` +
  `(${httpHealth.length + pairsHealthMs.length} probes, max ${Math.max(...httpHealth, ...pairsHealthMs).toFixed(1)})`;
const pairsLine =
  `c=1 TTFT pairs (max_tokens 1, same prompt, order swapped every other pair): floor prefill p50 ` +
  `${median(pairedTtft.map((p) => p.floor)).toFixed(1)} ms, gpux TTFT p50 ${median(pairedTtft.map((p) => p.gpux)).toFixed(1)} ms, ` +
  `paired difference p50 ${pairedGap.toFixed(1)} ms, 95 % bootstrap interval [${pairedLow.toFixed(1)}, ${pairedHigh.toFixed(1)}] ms`;
const families = ["gpux serve HTTP", ...(inProcess ? ["gpux scheduler"] : [])];

// what a join and a leave cost: the cache rebuild the loop does then, at the end of a b8 run
const floorCache = lastFloorCache as { past: Record<string, ort.Tensor>; width: number };
const batchOf8 = { past: floorCache.past, width: floorCache.width, lengths: Array(8).fill(floorCache.width) };
/** Median of five timings (the first pays for fresh pages too). */
const timed = (work: () => void) =>
  median(
    Array.from({ length: 5 }, () => {
      const started = now();
      work();
      return now() - started;
    }),
  );
const leaveMs = timed(() => packCacheRows(cacheNames, rowsOf(batchOf8, [0, 1, 2, 3, 4, 5, 6])));
const joinMs = timed(() => packCacheRows(cacheNames, rowsOf(batchOf8, [0, 1, 2, 3, 4, 5, 6, 7])));
const stats = scheduler.stats;
const schedulerLine = inProcess
  ? `; in-process scheduler: ${stats.prefills} prefills, ${stats.steps} steps, mean batch ${(stats.rowSteps / stats.steps).toFixed(2)}, ` +
    `${stats.repacks} rebuilds (${(stats.repackMs / Math.max(1, stats.repacks)).toFixed(1)} ms each)`
  : "";
process.stdout.write(
  `model ${dir} (${layers} layers, hidden ${config.hidden_size}, vocab ${config.vocab_size}), ` +
    `${promptTokens}-token prompts, ${newTokens} new tokens each, ${rounds} round(s), medians; cpu\n\n` +
    `${formatTable(["", "TTFT p50 ms", "decode tok/s", "vs floor same B", "vs c=1", "end-to-end tok/s", "/health p99 ms", "same tokens"], rows)}\n\n` +
    `${formatTable(["", "target", "measured", ""], families.flatMap(targets))}\n\n` +
    `${pairsLine}\n${healthLine}\n\n` +
    `cache rebuild at width ${floorCache.width}: a leave (8 → 7 rows) ${leaveMs.toFixed(1)} ms, a join (→ 8 rows) ${joinMs.toFixed(1)} ms` +
    `${schedulerLine}\n`,
);
await model.dispose();
