import { checkPrompt, promptInput } from "../../app/generation-input.js";
import { resolveModelRef } from "../../app/resolve.js";
import type { DurationStats } from "../../engine/benchmark.js";
import {
  benchmarkGeneration,
  type GenerationBenchmarkResult,
} from "../../engine/generation/benchmark-generation.js";
import { writeFileAtomic } from "../../util/fs-atomic.js";
import { defaults } from "../../util/settings.js";
import { formatTable } from "../format-table.js";
import { readStdin } from "../read-stdin.js";
import { chatSession } from "./chat-session.js";
import { openGenerator } from "./open-generator.js";
import { runPrompt } from "./run-prompt.js";
import { type SamplingFlags, samplingFromFlags } from "./sampling-flags.js";

/** The `gpux run` flags the generation path reads. */
export interface GenerationRunFlags extends SamplingFlags {
  prompt?: string;
  system?: string;
  raw?: boolean;
  config?: string;
  provider?: string;
  timeout?: number;
  output?: string;
  json?: boolean;
  benchmark?: boolean;
  runs?: number;
  warmup?: number;
}

/** Used by --benchmark without --prompt: about 128 tokens of ordinary English for most tokenizers. */
const benchmarkPrompt =
  "The history of the lighthouse is a history of trade, weather and stubborn engineering. For centuries, " +
  "ships approaching a rocky coast at night had nothing but fires on hilltops to guide them, and many of those " +
  "fires were lit by wreckers who hoped to lure vessels onto the rocks. The first purpose-built towers, such as " +
  "the Pharos of Alexandria, were wonders of their age, but it was the arrival of clockwork lenses, paraffin " +
  "lamps and later electric light that turned them into a network. Keepers lived in cramped rooms, trimmed " +
  "wicks through storms, and wrote";

/** True when `gpux run REF` with no input names a text-generation model (then it prompts or chats). */
export async function isGenerationModel(
  ref: string | undefined,
  config: string | undefined,
): Promise<boolean> {
  try {
    return (await resolveModelRef(ref, { configPath: config })).config.task === "text-generation";
  } catch {
    return false; // the normal path reports the error
  }
}

function printBenchmark(result: GenerationBenchmarkResult): void {
  const row = (label: string, s: DurationStats) => [
    label,
    ...[s.mean, s.std, s.min, s.p50, s.max].map((x) => x.toFixed(2)),
  ];
  process.stdout.write(
    `model ${result.model}  provider ${result.provider}  runs ${result.runs}  warmup ${result.warmup}  ` +
      `prompt ${result.prompt_tokens} tokens  new ${result.new_tokens} tokens\n\n` +
      `${formatTable(
        ["", "mean", "std", "min", "p50", "max"],
        [
          row("time to first token (ms)", result.time_to_first_token_ms),
          row("decode (tokens/s)", result.decode_tokens_per_second),
        ],
      )}\n`,
  );
}

/**
 * `gpux run` on a text-generation model: --prompt streams the answer (or prints JSON with --json), --benchmark
 * times generations, no prompt on a terminal opens a chat, and a prompt piped on stdin is read whole.
 */
export async function runGeneration(ref: string | undefined, flags: GenerationRunFlags): Promise<void> {
  const sampling = samplingFromFlags(flags);
  const timeoutSeconds = flags.timeout;
  const { runs = defaults.run.generationRuns, warmup = defaults.run.generationWarmup } = flags;
  const interactive = flags.prompt === undefined && !flags.benchmark && process.stdin.isTTY === true;
  const prompt = flags.prompt ?? (flags.benchmark ? benchmarkPrompt : interactive ? "" : await readStdin());
  if (!interactive) checkPrompt(prompt);
  const opened = await openGenerator(ref, { config: flags.config, provider: flags.provider, timeoutSeconds });
  try {
    const { generator, model } = opened;
    if (interactive) {
      await chatSession(generator, {
        system: flags.system,
        sampling,
        model: model.name,
        provider: model.provider,
      });
      return;
    }
    const input = promptInput(generator, { prompt, system: flags.system, raw: flags.raw });
    if (flags.benchmark) {
      const result = await benchmarkGeneration(
        generator,
        input,
        { ...sampling, maxTokens: sampling.maxTokens ?? 64 },
        { runs, warmup, model: model.name, provider: model.provider },
      );
      if (flags.output) await writeFileAtomic(flags.output, `${JSON.stringify(result, null, 2)}\n`);
      if (flags.json) process.stdout.write(`${JSON.stringify(result)}\n`);
      else printBenchmark(result);
      return;
    }
    const streaming = !flags.json && !flags.output;
    const result = await runPrompt(generator, input, sampling, {
      model: model.name,
      provider: model.provider,
      write: streaming ? (text) => process.stdout.write(text) : undefined,
    });
    if (flags.output) await writeFileAtomic(flags.output, `${JSON.stringify(result, null, 2)}\n`);
    if (flags.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else if (streaming) process.stdout.write("\n");
    else process.stderr.write(`wrote ${flags.output}\n`);
  } finally {
    await opened.close();
  }
}
