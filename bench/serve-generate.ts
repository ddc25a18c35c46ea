/**
 * Continuous batching measured: concurrent greedy generations through GenerationScheduler (what `gpux serve`
 * runs for a generation model, in process) at concurrency 1, 4 and 8, beside the floor: a minimal batched
 * onnxruntime-node greedy loop at batch 1, 4 and 8 (the B prompts prefilled in one pass, then one pass per
 * step for all rows, present fed back, argmax). Same ~130 M model as bench/generate.ts, 128-token prompts
 * (B different ones), 64 new tokens each, EOS ignored; the kinds alternate round by round.
 * Decode tok/s = Σ(new tokens after the first) / (last token − last first token): the span where every
 * sequence is decoding, as for the floor. End-to-end tok/s = every new token / (last token − start).
 * Run: npx tsx bench/serve-generate.ts [rounds=1]   (needs Python with torch + transformers for the export)
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
import { benchGenerateModel, promptsOfLength } from "./generate-model.js";

const rounds = Number(process.argv[2] ?? 1);
const promptTokens = 128;
const newTokens = 64;
const widths = [1, 4, 8];

interface Trial {
  /** Per sequence: from the start to its first token. */
  ttftMs: number[];
  decodeTokensPerSecond: number;
  endToEndTokensPerSecond: number;
  tokens: number[][];
}

const now = () => performance.now();
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

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

const scheduler = new GenerationScheduler(generator, {
  maxConcurrentSequences: Math.max(...widths),
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

type Kind = [name: string, width: number, trial: (tokens?: number) => Promise<Trial>];
const kinds: Kind[] = [
  ...widths.map((b): Kind => [`floor batch ${b}`, b, (t) => floorTrial(b, t)]),
  ...widths.map((c): Kind => [`gpux scheduler c=${c}`, c, (t) => schedulerTrial(c, t)]),
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

const floorOf = (width: number) => results.get(`floor batch ${width}`) as Trial[];
const figure = (trials: Trial[], pick: (t: Trial) => number) => median(trials.map(pick));
const floorPrefillB1 = figure(floorOf(1), (t) => median(t.ttftMs));
const schedulerC1 = figure(results.get("gpux scheduler c=1") as Trial[], (t) => t.decodeTokensPerSecond);
const rows = kinds.map(([name, width]) => {
  const trials = results.get(name) as Trial[];
  const decode = figure(trials, (t) => t.decodeTokensPerSecond);
  const floorDecode = figure(floorOf(width), (t) => t.decodeTokensPerSecond);
  const reference = floorOf(width)[0]
    ?.tokens.map((t) => t.join())
    .join("|");
  const same = trials.every((t) => t.tokens.map((ids) => ids.join()).join("|") === reference);
  return [
    name,
    figure(trials, (t) => median(t.ttftMs)).toFixed(0),
    decode.toFixed(1),
    `${(decode / floorDecode).toFixed(2)}x`,
    name.startsWith("gpux") ? `${(decode / schedulerC1).toFixed(2)}x` : "",
    figure(trials, (t) => t.endToEndTokensPerSecond).toFixed(1),
    same ? "yes" : "NO",
  ];
});

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
process.stdout.write(
  `model ${dir} (${layers} layers, hidden ${config.hidden_size}, vocab ${config.vocab_size}), ` +
    `${promptTokens}-token prompts, ${newTokens} new tokens each, ${rounds} round(s), medians; cpu\n\n` +
    `${formatTable(["", "TTFT p50 ms", "decode tok/s", "vs floor same B", "vs c=1", "end-to-end tok/s", "same tokens"], rows)}\n\n` +
    `targets: c=1 decode ≥ 0.9x floor b1; c=8 ≥ 3x c=1 and ≥ 0.8x floor b8; c=1 TTFT p50 within 10 ms of the floor's b1 prefill (${floorPrefillB1.toFixed(0)} ms)\n` +
    `cache rebuild at width ${floorCache.width}: a leave (8 → 7 rows) ${leaveMs.toFixed(1)} ms, a join (→ 8 rows) ${joinMs.toFixed(1)} ms; ` +
    `scheduler: ${stats.prefills} prefills, ${stats.steps} steps, mean batch ${(stats.rowSteps / stats.steps).toFixed(2)}, ` +
    `${stats.repacks} rebuilds (${(stats.repackMs / Math.max(1, stats.repacks)).toFixed(1)} ms each)\n`,
);
await model.dispose();
