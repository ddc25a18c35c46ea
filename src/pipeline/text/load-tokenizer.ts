import { statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { errorMessage, NotFoundError, UserError } from "../../util/errors.js";
import type { PipelineContext } from "../pipeline.js";
import { TextTokenizer } from "./text-tokenizer.js";

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The model's tokenizer: gpux.yml `preprocessing.tokenizer` (a tokenizer.json or its folder, relative to
 * gpux.yml), else tokenizer.json beside gpux.yml; tokenizer_config.json and special_tokens_map.json next to it.
 */
export function loadTokenizer(context: PipelineContext): TextTokenizer {
  return context.files.once("tokenizer", () => readTokenizer(context));
}

function readTokenizer(context: PipelineContext): TextTokenizer {
  const setting = context.config.preprocessing?.tokenizer;
  let path = resolve(context.dir, setting ?? "tokenizer.json");
  if (isDirectory(path)) path = resolve(path, "tokenizer.json");
  const folder = dirname(path);
  const tokenizerJson = context.files.json(path);
  if (!tokenizerJson) {
    throw new NotFoundError(`Task '${context.config.task}' needs a tokenizer, but ${path} does not exist.`, {
      hint: "Put the model's tokenizer.json beside gpux.yml, or set preprocessing.tokenizer in gpux.yml.",
    });
  }
  const config = {
    ...(context.files.json(resolve(folder, "special_tokens_map.json")) ?? {}),
    ...(context.files.json(resolve(folder, "tokenizer_config.json")) ?? {}),
  };
  let tokenizer: TextTokenizer;
  try {
    tokenizer = TextTokenizer.fromJson(tokenizerJson, config);
  } catch (error) {
    throw new UserError(`Cannot use the tokenizer ${path}: ${errorMessage(error)}`, {
      hint: "gpux reads WordPiece, BPE and Unigram tokenizers in the Hugging Face tokenizer.json format.",
      cause: error,
    });
  }
  return tokenizer;
}
