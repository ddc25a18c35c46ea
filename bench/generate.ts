/**
 * Greedy generation side by side in one run, alternating round by round: a minimal onnxruntime-node loop (the
 * floor: prompt ids in, cache fed back, argmax), transformers.js `text-generation` on the same ONNX files, and
 * gpux's generator (what `gpux run --prompt` runs). A ~130 M Qwen3-shaped random-weight model
 * (bench/make_generate_model.py), 128 prompt tokens, 64 new ones (EOS ignored by all three).
 * Run: npx tsx bench/generate.ts [rounds=3]   (needs Python with torch + transformers for the export)
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { formatTable } from "../src/cli/format-table.js";
import { loadConfig } from "../src/config/load-config.js";
import { generateToEnd } from "../src/engine/generation/benchmark-generation.js";
import { loadGenerator } from "../src/engine/generation/load-generator.js";
import { Model } from "../src/engine/model.js";
import { benchGenerateModel, promptsOfLength } from "./generate-model.js";

const rounds = Number(process.argv[2] ?? 3);
const promptTokens = 128;
const newTokens = 64;

interface Trial {
  ttftMs: number;
  decodeTokensPerSecond: number;
  tokens: number[];
}

const now = () => performance.now();
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

/** The floor: what any caller of onnxruntime-node must do at least. */
async function floorTrial(
  session: ort.InferenceSession,
  ids: number[],
  config: Record<string, number>,
): Promise<Trial> {
  const layers = config.num_hidden_layers as number;
  const shape = [1, config.num_key_value_heads as number, 0, config.head_dim as number];
  let past: Record<string, ort.Tensor> = {};
  for (let i = 0; i < layers; i++) {
    past[`past_key_values.${i}.key`] = new ort.Tensor("float32", new Float32Array(0), shape);
    past[`past_key_values.${i}.value`] = new ort.Tensor("float32", new Float32Array(0), shape);
  }
  const tokens: number[] = [];
  const start = now();
  let first = 0;
  let input = ids;
  let length = 0;
  while (tokens.length < newTokens) {
    const total = length + input.length;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor("int64", BigInt64Array.from(input, BigInt), [1, input.length]),
      attention_mask: new ort.Tensor("int64", new BigInt64Array(total).fill(1n), [1, total]),
      position_ids: new ort.Tensor(
        "int64",
        BigInt64Array.from(input, (_, i) => BigInt(length + i)),
        [1, input.length],
      ),
      ...past,
    };
    const out = await session.run(feeds);
    const logits = out.logits as ort.Tensor;
    const vocab = logits.dims[2] as number;
    const data = logits.data as Float32Array;
    const offset = (logits.dims[1] as number) * vocab - vocab;
    let best = 0;
    for (let v = 1; v < vocab; v++)
      if ((data[offset + v] as number) > (data[offset + best] as number)) best = v;
    tokens.push(best);
    if (tokens.length === 1) first = now();
    past = {};
    for (let i = 0; i < layers; i++) {
      past[`past_key_values.${i}.key`] = out[`present.${i}.key`] as ort.Tensor;
      past[`past_key_values.${i}.value`] = out[`present.${i}.value`] as ort.Tensor;
    }
    length = total;
    input = [best];
  }
  const end = now();
  return { ttftMs: first - start, decodeTokensPerSecond: ((newTokens - 1) * 1000) / (end - first), tokens };
}

type TransformersModel = {
  generate(options: Record<string, unknown>): Promise<unknown>;
};

/** transformers.js on the same files, timed by a streamer: its first put() is the prompt, then one per token. */
async function transformersTrial(model: TransformersModel, ids: number[]): Promise<Trial> {
  const { Tensor } = await import("@huggingface/transformers");
  const times: number[] = [];
  const tokens: number[] = [];
  let puts = 0;
  const streamer = {
    put(value: bigint[][]) {
      if (puts++ === 0) return;
      times.push(now());
      tokens.push(Number(value[0]?.[0]));
    },
    end() {},
  };
  const inputIds = new Tensor("int64", BigInt64Array.from(ids, BigInt), [1, ids.length]);
  const mask = new Tensor("int64", new BigInt64Array(ids.length).fill(1n), [1, ids.length]);
  const start = now();
  await model.generate({
    input_ids: inputIds,
    attention_mask: mask,
    max_new_tokens: newTokens,
    min_new_tokens: newTokens,
    do_sample: false,
    streamer,
  });
  const first = times[0] as number;
  const last = times[times.length - 1] as number;
  return {
    ttftMs: first - start,
    decodeTokensPerSecond: ((times.length - 1) * 1000) / (last - first),
    tokens,
  };
}

const dir = benchGenerateModel();
const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
const modelPath = join(dir, "onnx", "model.onnx");

const gpuxModel = await Model.load(await loadConfig(join(dir, "gpux.yml")));
const generator = loadGenerator(gpuxModel);
const [{ text: promptText, ids: promptIds }] = promptsOfLength(generator, promptTokens) as [
  { text: string; ids: number[] },
];

const floorSession = await ort.InferenceSession.create(modelPath, { graphOptimizationLevel: "all" });
let transformers: TransformersModel | undefined;
let transformersProblem = "";
try {
  const library = await import("@huggingface/transformers");
  library.env.allowRemoteModels = false;
  library.env.localModelPath = "";
  transformers = (await library.AutoModelForCausalLM.from_pretrained(dir, {
    dtype: "fp32",
    device: "cpu",
    use_external_data_format: true,
    local_files_only: true,
  })) as unknown as TransformersModel;
} catch (error) {
  transformersProblem = error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error);
}

async function gpuxTrial(): Promise<Trial> {
  const summary = await generateToEnd(
    generator,
    { prompt: promptText },
    { temperature: 0, maxTokens: newTokens, ignoreEos: true },
  );
  return {
    ttftMs: summary.timeToFirstTokenMs,
    decodeTokensPerSecond: summary.decodeTokensPerSecond,
    tokens: summary.tokenIds,
  };
}

const methods: Array<[string, () => Promise<Trial>]> = [
  ["onnxruntime-node loop (floor)", () => floorTrial(floorSession, promptIds, config)],
  ...(transformers
    ? [
        [
          "transformers.js text-generation",
          () => transformersTrial(transformers as TransformersModel, promptIds),
        ] as [string, () => Promise<Trial>],
      ]
    : []),
  ["gpux (run --prompt's generator)", gpuxTrial],
];
const results = new Map<string, Trial[]>(methods.map(([name]) => [name, []]));
for (const [, trial] of methods) await trial(); // warm-up, untimed
for (let round = 0; round < rounds; round++) {
  const order = methods.map((_, i) => methods[(i + round) % methods.length] as (typeof methods)[number]);
  for (const [name, trial] of order) results.get(name)?.push(await trial());
}

const floor = results.get(methods[0]?.[0] as string) as Trial[];
const floorDecode = median(floor.map((t) => t.decodeTokensPerSecond));
const floorTtft = median(floor.map((t) => t.ttftMs));
const rows = [...results].map(([name, trials]) => {
  const decode = median(trials.map((t) => t.decodeTokensPerSecond));
  const ttft = median(trials.map((t) => t.ttftMs));
  const same = trials.every((t) => t.tokens.join() === floor[0]?.tokens.join());
  return [
    name,
    ttft.toFixed(1),
    `${((ttft / floorTtft - 1) * 100).toFixed(1)}%`,
    decode.toFixed(1),
    `${(decode / floorDecode).toFixed(3)}x`,
    same ? "yes" : "NO",
  ];
});
process.stdout.write(
  `model ${dir} (${config.num_hidden_layers} layers, hidden ${config.hidden_size}, vocab ${config.vocab_size}), ` +
    `prompt ${promptIds.length} tokens, ${newTokens} new, ${rounds} alternating rounds, medians; cpu\n\n` +
    `${formatTable(["", "TTFT ms", "vs floor", "decode tok/s", "vs floor", "same tokens"], rows)}\n` +
    (transformersProblem ? `\ntransformers.js could not run: ${transformersProblem}\n` : ""),
);
await gpuxModel.dispose();
