import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { errorMessage, UserError } from "../util/errors.js";

export type JsonObject = Record<string, unknown>;

const cache = new Map<string, { mtimeMs: number; value: unknown }>();

/** A JSON object file beside gpux.yml (config.json, tokenizer_config.json, …); undefined when absent. */
export function readModelJson(dir: string, name: string): JsonObject | undefined {
  const value = readModelJsonValue(dir, name);
  return value && typeof value === "object" && !Array.isArray(value) ? (value as JsonObject) : undefined;
}

/** Any JSON file beside gpux.yml (modules.json is a list); undefined when absent. Cached by mtime. */
export function readModelJsonValue(dir: string, name: string): unknown {
  const path = resolve(dir, name);
  let mtimeMs: number;
  try {
    mtimeMs = statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
  const cached = cache.get(path);
  if (cached && cached.mtimeMs === mtimeMs) return cached.value;
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
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
