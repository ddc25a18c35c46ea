import { type DurationStats, summarize } from "../../engine/benchmark.js";
import { generateToEnd } from "../../engine/generation/benchmark-generation.js";
import type { GenerationSummary, TextGenerator } from "../../engine/generation/generator.js";
import { loadGenerator } from "../../engine/generation/load-generator.js";
import type { SamplingRequest } from "../../engine/generation/sampling.js";
import { Model } from "../../engine/model.js";
import { generationRequestInput } from "../generation-input.js";
import type { ComparableRow } from "./comparable-rows.js";
import { type MeasureJob, RequestFailure, rssBytes } from "./measure-model.js";

/** One generation model's answers and figures, as its process reports them. */
export interface GenerationMeasurement {
  kind: "generation";
  name: string;
  provider: string;
  load_ms: number;
  /** One row per request: the greedy continuation's token ids. */
  rows: ComparableRow[][];
  /** Timed generations of the first request (EOS ignored, so each decodes max_tokens): TTFT and decode speed. */
  time_to_first_token_ms: DurationStats;
  time_to_first_token_samples_ms: number[];
  decode_tokens_per_second: DurationStats;
  baseline_rss_bytes: number;
  peak_rss_bytes: number;
}

/** A compare request as the generator reads it: `--text` (and a dataset's `text`) is the prompt. */
function inputOf(generator: TextGenerator, request: unknown) {
  const fields = (request ?? {}) as Record<string, unknown>;
  const { text, ...rest } = fields;
  return generationRequestInput(generator, typeof text === "string" ? { prompt: text, ...rest } : fields);
}

/**
 * Load a text-generation model, answer every request greedily with the same max_tokens (the rows compared),
 * then time `runs` generations of the first request after `warmup` untimed ones.
 */
export async function measureGeneration(job: MeasureJob): Promise<GenerationMeasurement> {
  const baseline = rssBytes();
  const start = process.hrtime.bigint();
  const model = await Model.load(job.loaded, { provider: job.provider, origin: "cli" });
  const loadMs = Number(process.hrtime.bigint() - start) / 1e6;
  try {
    const generator = loadGenerator(model);
    const greedy: SamplingRequest = { temperature: 0, maxTokens: job.maxTokens };
    const rows: ComparableRow[][] = [];
    const inputs = [];
    for (const [index, request] of job.requests.entries()) {
      try {
        const input = inputOf(generator, request);
        inputs.push(input);
        rows.push([{ tokens: (await generateToEnd(generator, input, greedy)).tokenIds }]);
      } catch (error) {
        throw new RequestFailure(index, error);
      }
    }
    const timed = { ...greedy, ignoreEos: true };
    const first = inputs[0] as (typeof inputs)[number];
    for (let i = 0; i < job.warmup; i++) await generateToEnd(generator, first, timed);
    const summaries: GenerationSummary[] = [];
    for (let i = 0; i < job.runs; i++) summaries.push(await generateToEnd(generator, first, timed));
    const ttft = summaries.map((s) => s.timeToFirstTokenMs);
    return {
      kind: "generation",
      name: model.name,
      provider: model.provider,
      load_ms: loadMs,
      rows,
      time_to_first_token_ms: summarize(ttft),
      time_to_first_token_samples_ms: ttft,
      decode_tokens_per_second: summarize(summaries.map((s) => s.decodeTokensPerSecond)),
      baseline_rss_bytes: baseline,
      peak_rss_bytes: rssBytes(),
    };
  } finally {
    await model.dispose();
  }
}
