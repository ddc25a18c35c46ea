import { z } from "zod";

/**
 * gpux.yml `generation:` — how a text-generation model samples unless a request says otherwise. The same
 * ranges check gpux.yml, CLI flags and (later) HTTP requests, so a value is valid or not in one place.
 * `gpux pull` fills it from generation_config.json; docs/reference/gpux-yml.md documents each field.
 */
export const generationFields = {
  /** New tokens at most; default: what is left of the context, capped at 512. */
  max_tokens: z.number().int().min(1).max(1_000_000).optional(),
  /** 0 = greedy (argmax), as in Ollama and the OpenAI API. */
  temperature: z.number().min(0).max(100).optional(),
  /** Sample from the smallest set of tokens whose probability reaches top_p; 1 = off. */
  top_p: z.number().gt(0).max(1).optional(),
  /** Sample from the k likeliest tokens; 0 = off. */
  top_k: z.number().int().min(0).max(1_000_000).optional(),
  /** Drop tokens less likely than min_p × the likeliest one; 0 = off. */
  min_p: z.number().min(0).max(1).optional(),
  /** >1 makes tokens already in the text less likely (transformers' rule); 1 = off. */
  repetition_penalty: z.number().gt(0).max(10).optional(),
  /** Same seed, same tokens; default: a new random seed per request. */
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .optional(),
  /** Generation stops before any of these strings; they are not part of the answer. */
  stop: z.array(z.string().min(1)).max(16).optional(),
  /** Token ids that end the answer (all of generation_config.json's eos_token_id). */
  eos_token_id: z.array(z.number().int().min(0)).optional(),
  /** Prompt + new tokens at most (config.json max_position_embeddings, genai_config.json context_length). */
  context_length: z.number().int().positive().optional(),
};

export const generationSettingsSchema = z.strictObject(generationFields);
export type GenerationSettings = z.output<typeof generationSettingsSchema>;

type Json = Record<string, unknown>;

function positive(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : undefined;
}

function idList(value: unknown): number[] | undefined {
  const list = (Array.isArray(value) ? value : [value]).filter(
    (id): id is number => typeof id === "number" && Number.isInteger(id) && id >= 0,
  );
  return list.length > 0 ? [...new Set(list)] : undefined;
}

/**
 * The `generation:` settings a model's own files imply: generation_config.json's sampling (do_sample false or
 * absent → temperature 0, greedy, as transformers does; do_sample true without top_k → transformers' 50), its
 * eos_token_id (else config.json's), and the context from config.json or genai_config.json.
 */
export function generationDefaults(
  hfConfig: Json | undefined,
  generationConfig: Json | undefined,
  genaiConfig: Json | undefined,
): GenerationSettings {
  const gen = generationConfig ?? {};
  const genaiModel = (genaiConfig?.model ?? {}) as Json;
  const sampled = gen.do_sample === true;
  const settings: GenerationSettings = {
    temperature: sampled ? (typeof gen.temperature === "number" ? gen.temperature : 1) : 0,
  };
  if (sampled) {
    settings.top_k = typeof gen.top_k === "number" ? gen.top_k : 50;
    if (typeof gen.top_p === "number" && gen.top_p < 1) settings.top_p = gen.top_p;
    if (typeof gen.min_p === "number" && gen.min_p > 0) settings.min_p = gen.min_p;
  }
  const penalty = positive(gen.repetition_penalty);
  if (penalty !== undefined && penalty !== 1) settings.repetition_penalty = penalty;
  const maxNew = positive(gen.max_new_tokens);
  if (maxNew !== undefined) settings.max_tokens = maxNew;
  settings.eos_token_id =
    idList(gen.eos_token_id) ?? idList(hfConfig?.eos_token_id) ?? idList(genaiModel.eos_token_id);
  const context = [
    genaiModel.context_length,
    hfConfig?.max_position_embeddings,
    hfConfig?.n_positions,
    hfConfig?.max_sequence_length,
    hfConfig?.seq_length,
  ]
    .map(positive)
    .find((n) => n !== undefined && Number.isInteger(n));
  if (context !== undefined) settings.context_length = context;
  if (settings.eos_token_id === undefined) delete settings.eos_token_id;
  return generationSettingsSchema.parse(settings);
}
