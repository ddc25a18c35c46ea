import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./cli.js";
import { generatedFixtureDir } from "./generated-fixture.js";

const script = join(repoRoot, "test", "fixtures", "make_tiny_transformers.py");

/** Names of the tiny repos make_tiny_transformers.py writes. */
export const tinyRepoNames = [
  "distilbert-sst2",
  "bert-sst2",
  "roberta-sst2",
  "bert-ner",
  "bert-sentence-embedding",
  "bert-cross-encoder",
  "vit-classifier",
] as const;
export type TinyRepoName = (typeof tinyRepoNames)[number];

export interface TinyReference {
  pipeline_tag: string;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
  /** Plain-text inputs (sentence-embedding: `input`; cross-encoder: `query`, `documents`). */
  texts?: Record<string, unknown>;
  /** sentence-transformers' answers for `texts` (`embeddings`; cross-encoder `logits` and `scores`). */
  text_outputs?: Record<string, number[] | number[][]>;
}

/**
 * The folder holding every tiny random-weight repo, generated once per version of the generating script
 * (test-output/tiny-transformers-<hash>/) so later runs reuse it.
 */
export function tinyTransformersDir(): string {
  return generatedFixtureDir("tiny-transformers", script);
}

export function tinyReference(repoDir: string): TinyReference {
  return JSON.parse(readFileSync(join(repoDir, "reference.json"), "utf8")) as TinyReference;
}

/** Largest absolute difference between two nested number arrays of the same shape. */
export function maxAbsDiff(a: unknown, b: unknown): number {
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return Number.POSITIVE_INFINITY;
    return a.reduce((worst: number, value, i) => Math.max(worst, maxAbsDiff(value, b[i])), 0);
  }
  if (typeof a === "number" && typeof b === "number") return Math.abs(a - b);
  return Number.POSITIVE_INFINITY;
}
