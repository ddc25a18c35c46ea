import type { Command } from "commander";
import { checkSampling, type SamplingRequest } from "../../engine/generation/sampling.js";
import { UserError } from "../../util/errors.js";

/** The sampling flags `run --prompt` and `chat` share, as commander leaves them (strings). */
export interface SamplingFlags {
  maxTokens?: string;
  temperature?: string;
  topP?: string;
  topK?: string;
  minP?: string;
  repetitionPenalty?: string;
  seed?: string;
  stop?: string[];
}

/** Add the sampling flags to a command (unset flags leave gpux.yml `generation:` in charge). */
export function addSamplingFlags(command: Command): Command {
  return command
    .option("--max-tokens <n>", "new tokens at most (default: generation.max_tokens, else up to 512)")
    .option("--temperature <t>", "0 = greedy; higher = more varied (default: generation_config.json)")
    .option("--top-p <p>", "sample from the likeliest tokens holding this much probability, (0, 1]")
    .option("--top-k <k>", "sample from the k likeliest tokens; 0 = off")
    .option("--min-p <p>", "drop tokens less likely than p × the likeliest; 0 = off")
    .option("--repetition-penalty <r>", "> 1 makes repeated tokens less likely; 1 = off")
    .option("--seed <n>", "same seed, same answer (default: a random seed)")
    .option(
      "--stop <text>",
      "end the answer before this text (repeatable)",
      (value: string, all: string[] = []) => [...all, value],
    );
}

function numberFlag(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) {
    throw new UserError(`${flag} takes a number, got '${value}'.`, { hint: `e.g. ${flag} 0.7` });
  }
  return n;
}

/** Flags → a sampling request, checked against the ranges every request is (engine/generation/sampling.ts). */
export function samplingFromFlags(flags: SamplingFlags): SamplingRequest {
  const request: SamplingRequest = {
    maxTokens: numberFlag(flags.maxTokens, "--max-tokens"),
    temperature: numberFlag(flags.temperature, "--temperature"),
    topP: numberFlag(flags.topP, "--top-p"),
    topK: numberFlag(flags.topK, "--top-k"),
    minP: numberFlag(flags.minP, "--min-p"),
    repetitionPenalty: numberFlag(flags.repetitionPenalty, "--repetition-penalty"),
    seed: numberFlag(flags.seed, "--seed"),
    stop: flags.stop,
  };
  checkSampling(request);
  return request;
}
