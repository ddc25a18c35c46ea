import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { errorMessage, UserError } from "../util/errors.js";

export type JsonObject = Record<string, unknown>;

type Outcome = { value: unknown } | { error: unknown };

function settle<T>(compute: () => T): Outcome {
  try {
    return { value: compute() };
  } catch (error) {
    return { error };
  }
}

function unwrap<T>(outcome: Outcome): T {
  if ("error" in outcome) throw outcome.error;
  return outcome.value as T;
}

/**
 * The files beside one model's gpux.yml (config.json, tokenizer files, preprocessor_config.json …) and the
 * settings derived from them, each read or resolved once for the model's lifetime: a request never touches
 * the disk. A failure is kept too, so that every request needing that file gets the same clear error.
 */
export class ModelFiles {
  private readonly files = new Map<string, Outcome>();
  private readonly settings = new Map<string, Outcome>();

  constructor(readonly dir: string) {}

  /** Any JSON file relative to the model folder (modules.json is a list); undefined when absent. */
  jsonValue(name: string): unknown {
    const path = resolve(this.dir, name);
    let outcome = this.files.get(path);
    if (!outcome) {
      outcome = settle(() => readJsonFile(path));
      this.files.set(path, outcome);
    }
    return unwrap(outcome);
  }

  /** A JSON object file relative to the model folder; undefined when absent or not an object. */
  json(name: string): JsonObject | undefined {
    const value = this.jsonValue(name);
    return value && typeof value === "object" && !Array.isArray(value) ? (value as JsonObject) : undefined;
  }

  /** A setting derived from the files (the tokenizer, image settings …), computed on first use only. */
  once<T>(key: string, compute: () => T): T {
    let outcome = this.settings.get(key);
    if (!outcome) {
      outcome = settle(compute);
      this.settings.set(key, outcome);
    }
    return unwrap<T>(outcome);
  }
}

function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") return undefined;
    throw error;
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UserError(`Cannot read ${path}: ${errorMessage(error)}`, {
      hint: "The model folder holds a damaged JSON file; pull or copy it again.",
    });
  }
}
