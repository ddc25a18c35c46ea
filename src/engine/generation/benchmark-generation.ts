import { type DurationStats, summarize } from "../benchmark.js";
import type { GenerationInput, GenerationSummary, TextGenerator } from "./generator.js";
import type { SamplingRequest } from "./sampling.js";

/** What `gpux run --benchmark --json` prints for a text-generation model (docs/reference/cli.md). */
export interface GenerationBenchmarkResult {
  model: string;
  provider: string;
  runs: number;
  warmup: number;
  prompt_tokens: number;
  /** New tokens per run (EOS ignored, so every run decodes the same count). */
  new_tokens: number;
  /** Tokenization + prefill + first sample. */
  time_to_first_token_ms: DurationStats;
  /** Per run: new tokens after the first / time from the first to the last. */
  decode_tokens_per_second: DurationStats;
}

/** Run one generation to its end and return its summary. */
export async function generateToEnd(
  generator: TextGenerator,
  input: GenerationInput,
  request: SamplingRequest,
): Promise<GenerationSummary> {
  for await (const event of generator.generate(input, request)) {
    if (event.type === "done") return event;
  }
  throw new Error("generation ended without a summary");
}

/** Time whole generations: untimed warm-up runs first, then time to first token and decode speed per run. */
export async function benchmarkGeneration(
  generator: TextGenerator,
  input: GenerationInput,
  request: SamplingRequest,
  options: { runs: number; warmup: number; model: string; provider: string },
): Promise<GenerationBenchmarkResult> {
  const fixed = { ...request, ignoreEos: true };
  for (let i = 0; i < options.warmup; i++) await generateToEnd(generator, input, fixed);
  const summaries: GenerationSummary[] = [];
  for (let i = 0; i < options.runs; i++) summaries.push(await generateToEnd(generator, input, fixed));
  const first = summaries[0] as GenerationSummary;
  return {
    model: options.model,
    provider: options.provider,
    runs: options.runs,
    warmup: options.warmup,
    prompt_tokens: first.promptTokens,
    new_tokens: first.tokenIds.length,
    time_to_first_token_ms: summarize(summaries.map((s) => s.timeToFirstTokenMs)),
    decode_tokens_per_second: summarize(summaries.map((s) => s.decodeTokensPerSecond)),
  };
}
