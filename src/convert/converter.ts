import type { ProgressSink } from "../util/progress.js";

/** Files of one model revision on disk: a Hub snapshot folder or a local checkpoint folder. */
export interface Snapshot {
  /** Folder holding the files (for the Hub: the cache's snapshots/<commit>/). */
  dir: string;
  /** Paths relative to dir, with forward slashes. */
  files: string[];
  /** `org/name` on the Hub, when it came from there. */
  repoId?: string;
  commit?: string;
  /** The Hub's pipeline_tag, when known. */
  pipelineTag?: string;
}

export interface ConvertOptions {
  /** Task to export (text-classification, …); default from pipeline_tag, then config.json architectures. */
  task?: string;
  /** ONNX opset; default chosen per model family. */
  opset?: number;
  /** Largest accepted absolute difference between ONNX and the source framework. Default 1e-4. */
  atol?: number;
  /** Also run ONNX Runtime's graph optimisations and keep the optimised model. */
  optimize?: boolean;
  /** ONNX variant to prefer when the repo ships several: fp32 (default), fp16, q8, q4, … */
  variant?: string;
  progress?: ProgressSink;
}

/** Largest absolute difference per output between the ONNX model and the source framework. */
export interface ValidationFigures {
  atol: number;
  /** null where the difference is not a number (NaN in an output, or shapes that differ). */
  maxAbsDiff: Record<string, number | null>;
  /** The input shapes (batch × sequence; a causal LM's batch × past + new tokens) the check ran on. */
  cases: string[];
  /** A causal LM's second check: greedy tokens from an ONNX Runtime loop against transformers' generate(). */
  greedy?: GreedyCheck;
  /** Both checks passed (every difference within atol, and greedy tokens identical where checked). */
  passed: boolean;
}

export interface GreedyCheck {
  /** New tokens generated per prompt. */
  steps: number;
  identical: boolean;
  runs: Array<{ promptLength: number; torch: number[]; onnx: number[]; minTop2Gap: number }>;
}

export interface ConversionReport {
  converter: string;
  task?: string;
  /** Where the task came from: --task, pipeline_tag, architectures or sentence-transformers. */
  taskSource?: string;
  opset?: number;
  /** Input and output names of the exported graph. */
  inputs?: string[];
  outputs?: string[];
  /** Absent for passthrough: nothing was exported. */
  validation?: ValidationFigures;
  /** The same check on the graph ONNX Runtime optimised (with --optimize). */
  optimizedValidation?: ValidationFigures;
  /** True when an earlier conversion with the same source and options was reused. */
  cached?: boolean;
  durationMs: number;
  /** Versions of the tools that did the export (torch, transformers, onnx …). */
  tools?: Record<string, string>;
  /** Files the conversion wrote, relative to its output folder (models and their external weights). */
  files?: string[];
}

export interface ConvertResult {
  /** The ONNX model to run (its external data, if any, beside it). */
  onnxPath: string;
  report: ConversionReport;
}

/** Turns a snapshot into an ONNX model. One class per source format; the CLI never names one. */
export interface Converter {
  readonly name: string;
  canConvert(snapshot: Snapshot): boolean;
  convert(snapshot: Snapshot, outDir: string, options: ConvertOptions): Promise<ConvertResult>;
}
