import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { errorMessage, UserError } from "../util/errors.js";

export type JsonObject = Record<string, unknown>;

const cache = new Map<string, { mtimeMs: number; value: JsonObject | undefined }>();

/** A JSON file beside gpux.yml (config.json, tokenizer_config.json, …); undefined when absent. Cached. */
export function readModelJson(dir: string, name: string): JsonObject | undefined {
  const path = resolve(dir, name);
  let mtimeMs: number;
  try {
    mtimeMs = statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
  const cached = cache.get(path);
  if (cached && cached.mtimeMs === mtimeMs) return cached.value;
  let value: JsonObject | undefined;
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, "utf8"));
    value =
      parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as JsonObject) : undefined;
  } catch (error) {
    throw new UserError(`Cannot read ${path}: ${errorMessage(error)}`, {
      hint: "The model folder holds a damaged JSON file; pull or copy it again.",
    });
  }
  cache.set(path, { mtimeMs, value });
  return value;
}

/** config.json of a transformers model (labels, problem_type), when the folder has one. */
export function readModelConfig(dir: string): JsonObject | undefined {
  return readModelJson(dir, "config.json");
}
