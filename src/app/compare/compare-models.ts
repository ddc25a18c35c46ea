import { readdir, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { DurationStats } from "../../engine/benchmark.js";
import { externalDataOf } from "../../registry/select-files.js";
import { UserError } from "../../util/errors.js";
import { defaults } from "../../util/settings.js";
import { type Agreement, accuracyOf, agreementWith } from "./agreement.js";
import { checkComparable } from "./check-comparable.js";
import type { EncoderKind } from "./comparable-rows.js";
import type { GenerationMeasurement } from "./measure-generation.js";
import { measureInChild } from "./measure-in-child.js";
import type { BatchThroughput, EncoderMeasurement, ModelMeasurement } from "./measure-model.js";
import type { CompareRequest } from "./read-dataset.js";
import { type ModelSpec, resolveVariant } from "./resolve-variant.js";
import { type TokenAgreement, tokenAgreementWith } from "./token-agreement.js";

export interface CompareOptions {
  requests: CompareRequest[];
  /** Execution provider for every model (default: each gpux.yml's). */
  provider?: string;
  /**
   * Timed runs of the first request, and untimed ones before them (default: defaults.run: 100 and 10 at batch 1
   * for encoders; 5 and 1 whole answers for generation models).
   */
  runs?: number;
  warmup?: number;
  /** Generation models: new tokens per greedy answer (default defaults.compare.maxTokens). */
  maxTokens?: number;
  cwd?: string;
  /** Told before each model is measured (the CLI prints progress). */
  onModel?: (name: string, index: number, total: number) => void;
}

/** What every model's line of the report holds; every key is part of `gpux compare --json`. */
interface ComparedBase {
  model: string;
  variant: string | null;
  name: string;
  task: string;
  provider: string;
  /** The ONNX graph file and its external data. */
  size_bytes: number;
  load_ms: number;
  /** getrusage maxRSS of the model's own process; model_rss_bytes: the part above the runtime's own. */
  peak_rss_bytes: number;
  model_rss_bytes: number;
  /** Share of labelled rows answered with the expected label; null without labels (and for generation). */
  accuracy: number | null;
}

/** An encoder model's line: batch-1 latency of the first request, batched throughput, answer agreement. */
export interface ComparedModel extends ComparedBase {
  latency_ms: DurationStats;
  latency_samples_ms: number[];
  throughput: { best_per_second: number; best_batch_size: number; by_batch_size: BatchThroughput[] };
  /** Against the baseline (the first model); null for the baseline itself. */
  agreement: Agreement | null;
}

/** A generation model's line: time to first token and decode speed of the first prompt, token agreement. */
export interface ComparedGenerator extends ComparedBase {
  time_to_first_token_ms: DurationStats;
  time_to_first_token_samples_ms: number[];
  decode_tokens_per_second: DurationStats;
  /** Against the baseline (the first model); null for the baseline itself. */
  agreement: TokenAgreement | null;
}

interface ReportBase {
  requests: number;
  labelled_rows: number;
}

/** The report on encoder models (classifiers, embedders, raw graphs). */
export interface EncoderCompareReport extends ReportBase {
  kind: EncoderKind;
  models: ComparedModel[];
}

/** The report on text-generation models: greedy answers of `max_tokens` tokens at most. */
export interface GenerationCompareReport extends ReportBase {
  kind: "generation";
  max_tokens: number;
  models: ComparedGenerator[];
}

export type CompareReport = EncoderCompareReport | GenerationCompareReport;

/** Bytes on disk of an ONNX graph and the external data files beside it. */
async function onnxSize(modelPath: string): Promise<number> {
  const dir = dirname(modelPath);
  const data = externalDataOf(basename(modelPath), await readdir(dir));
  const sizes = await Promise.all([modelPath, ...data.map((file) => join(dir, file))].map((p) => stat(p)));
  return sizes.reduce((sum, s) => sum + s.size, 0);
}

const displayName = (spec: ModelSpec) => (spec.variant ? `${spec.ref} (${spec.variant})` : spec.ref);

/** Where a failed request came from: its dataset line, or the one request given on the command line. */
function requestPlace(requests: readonly CompareRequest[], index: number | undefined): string {
  if (index === undefined) return "";
  const line = requests[index]?.line;
  return line === undefined ? " on the request" : ` on line ${line}`;
}

/** A comparison needs a baseline and at least one other model. */
export function requireTwoModels(specs: readonly ModelSpec[]): void {
  if (specs.length >= 2) return;
  throw new UserError("gpux compare needs at least two models.", {
    hint: "Name the baseline then the others: `gpux compare org/model --variant fp32 org/model --variant q8 --file eval.jsonl`.",
  });
}

/**
 * `gpux compare`: resolve every model, check they answer the same requests, measure each in its own
 * process one after the other (answers, load, latency, throughput, memory), then compare each model's
 * answers with the first one's (the baseline).
 */
export async function compareModels(
  specs: readonly ModelSpec[],
  options: CompareOptions,
): Promise<CompareReport> {
  requireTwoModels(specs);
  const resolved = await Promise.all(
    specs.map(async (spec) => ({
      spec,
      name: displayName(spec),
      loaded: await resolveVariant(spec, options.cwd),
    })),
  );
  await checkComparable(resolved);
  const generation = resolved[0]?.loaded.config.task === "text-generation"; // one task for all, checked
  const requests = options.requests.map((r) => r.request);
  const maxTokens = options.maxTokens ?? defaults.compare.maxTokens;
  const measured: Measured[] = [];
  for (const [index, model] of resolved.entries()) {
    options.onModel?.(model.name, index, resolved.length);
    const measurement = await measureInChild(
      {
        loaded: model.loaded,
        requests,
        provider: options.provider,
        runs: options.runs ?? (generation ? defaults.run.generationRuns : defaults.run.runs),
        warmup: options.warmup ?? (generation ? defaults.run.generationWarmup : defaults.run.warmup),
        maxTokens,
      },
      (request) => `'${model.name}' failed${requestPlace(options.requests, request)}`,
    );
    measured.push({ ...model, measurement, size: await onnxSize(model.loaded.modelPath) });
  }
  if (generation) return generationReport(measured, requests.length, maxTokens);
  return encoderReport(measured, options.requests);
}

interface Measured {
  spec: ModelSpec;
  loaded: Awaited<ReturnType<typeof resolveVariant>>;
  measurement: ModelMeasurement;
  size: number;
}

/** The figures every model's line has, whatever its kind. */
function baseFigures({ spec, loaded, measurement: m, size }: Measured): Omit<ComparedBase, "accuracy"> {
  return {
    model: spec.ref,
    variant: spec.variant ?? null,
    name: m.name,
    task: loaded.config.task ?? "raw",
    provider: m.provider,
    size_bytes: size,
    load_ms: m.load_ms,
    peak_rss_bytes: m.peak_rss_bytes,
    model_rss_bytes: Math.max(0, m.peak_rss_bytes - m.baseline_rss_bytes),
  };
}

function encoderReport(measured: Measured[], dataset: readonly CompareRequest[]): EncoderCompareReport {
  const all = measured.map((m) => m.measurement as EncoderMeasurement);
  const baseline = all[0] as EncoderMeasurement; // two or more, checked above
  const labels = dataset.map((r) => r.labels);
  dataset.forEach((request, r) => {
    const answered = baseline.rows[r]?.length ?? 0;
    if (request.labels && request.labels.length !== answered) {
      throw new UserError(
        `Line ${request.line}: ${request.labels.length} label(s) for ${answered} answer row(s).`,
        { hint: "Give one label per text: a string for one text, a list for a list of texts." },
      );
    }
  });
  return {
    kind: baseline.kind,
    requests: dataset.length,
    labelled_rows: labels.reduce((sum, l) => sum + (l?.length ?? 0), 0),
    models: measured.map((model, index) => {
      const m = all[index] as EncoderMeasurement;
      const best = m.throughput.reduce((a, b) => (b.per_second > a.per_second ? b : a));
      return {
        ...baseFigures(model),
        latency_ms: m.latency_ms,
        latency_samples_ms: m.latency_samples_ms,
        throughput: {
          best_per_second: best.per_second,
          best_batch_size: best.batch_size,
          by_batch_size: m.throughput,
        },
        accuracy: accuracyOf(m.rows, labels) ?? null,
        agreement: index === 0 ? null : agreementWith(baseline.rows, m.rows, baseline.kind),
      };
    }),
  };
}

/** Generation models: labels are not compared (a continuation is not a label), tokens are. */
function generationReport(
  measured: Measured[],
  requests: number,
  maxTokens: number,
): GenerationCompareReport {
  const all = measured.map((m) => m.measurement as GenerationMeasurement);
  const baseline = all[0] as GenerationMeasurement;
  return {
    kind: "generation",
    requests,
    labelled_rows: 0,
    max_tokens: maxTokens,
    models: measured.map((model, index) => {
      const m = all[index] as GenerationMeasurement;
      return {
        ...baseFigures(model),
        time_to_first_token_ms: m.time_to_first_token_ms,
        time_to_first_token_samples_ms: m.time_to_first_token_samples_ms,
        decode_tokens_per_second: m.decode_tokens_per_second,
        accuracy: null,
        agreement: index === 0 ? null : tokenAgreementWith(baseline.rows, m.rows),
      };
    }),
  };
}
