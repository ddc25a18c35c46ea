import type {
  ComparedGenerator,
  ComparedModel,
  CompareReport,
  EncoderCompareReport,
  GenerationCompareReport,
} from "../app/compare/compare-models.js";
import type { ReportTable } from "../app/compare/report-html.js";
import { formatBytes } from "./format-bytes.js";

const ms = (value: number) => `${value < 10 ? value.toFixed(3) : value.toFixed(1)} ms`;
const percent = (share: number) => `${(share * 100).toFixed(1)} %`;
const small = (value: number | null | undefined) =>
  value === null || value === undefined ? "—" : value === 0 ? "0" : value.toPrecision(3);

type AnyModel = ComparedModel | ComparedGenerator;

/** Each model's figure, and for the others the ratio to the baseline's (×0.45: less than half of it). */
function figureRow<M extends AnyModel>(
  label: string,
  models: readonly M[],
  value: (m: M) => number,
  show: (n: number) => string,
): string[] {
  const base = value(models[0] as M);
  return [
    label,
    ...models.map((m, i) => {
      const v = value(m);
      return i === 0 || base === 0 ? show(v) : `${show(v)} (×${(v / base).toFixed(2)})`;
    }),
  ];
}

/** Each model by its gpux.yml name (a folder's name, not its whole path), by what was typed when names repeat. */
function headerOf(models: readonly AnyModel[]): string[] {
  const named = (name: (m: AnyModel) => string) =>
    models.map((m) => (m.variant ? `${name(m)} (${m.variant})` : name(m)));
  const short = named((m) => m.name);
  return ["", ...(new Set(short).size === short.length ? short : named((m) => m.model))];
}

const each = <M>(models: readonly M[], label: string, cell: (m: M) => string) => [label, ...models.map(cell)];

/** The figures every kind of model has: what it is, its size, load time and memory. */
function commonRows<M extends AnyModel>(models: readonly M[], speed: string[][]): string[][] {
  return [
    each(models, "task", (m) => m.task),
    each(models, "provider", (m) => m.provider),
    figureRow("size on disk", models, (m) => m.size_bytes, formatBytes),
    figureRow("load", models, (m) => m.load_ms, ms),
    ...speed,
    figureRow("peak memory (RSS)", models, (m) => m.peak_rss_bytes, formatBytes),
    figureRow("  of it the model", models, (m) => m.model_rss_bytes, formatBytes),
  ];
}

function encoderRows(report: EncoderCompareReport): string[][] {
  const models = report.models;
  const agreement = (cell: (a: NonNullable<ComparedModel["agreement"]>) => string) => (m: ComparedModel) =>
    m.agreement ? cell(m.agreement) : "baseline";
  const rows = commonRows(models, [
    figureRow("latency p50", models, (m) => m.latency_ms.p50, ms),
    figureRow("latency p99", models, (m) => m.latency_ms.p99, ms),
    figureRow(
      "best throughput",
      models,
      (m) => m.throughput.best_per_second,
      (v) => `${v.toFixed(1)}/s`,
    ),
    each(models, "  at batch", (m) => String(m.throughput.best_batch_size)),
  ]);
  if (report.labelled_rows > 0)
    rows.push(each(models, "accuracy", (m) => (m.accuracy === null ? "—" : percent(m.accuracy))));
  if (report.kind === "classification")
    rows.push(
      each(
        models,
        "top-1 agreement",
        agreement((a) => percent(a.top1_agreement ?? 0)),
      ),
    );
  if (report.kind === "embedding") {
    rows.push(
      each(
        models,
        "cosine mean",
        agreement((a) => small(a.cosine_mean)),
      ),
    );
    rows.push(
      each(
        models,
        "cosine min",
        agreement((a) => small(a.cosine_min)),
      ),
    );
  }
  const values =
    report.kind === "classification" ? "score" : report.kind === "embedding" ? "embedding" : "output";
  rows.push(
    each(
      models,
      `max |${values} diff|`,
      agreement((a) => small(a.max_abs_diff)),
    ),
  );
  rows.push(
    each(
      models,
      `mean |${values} diff|`,
      agreement((a) => small(a.mean_abs_diff)),
    ),
  );
  return rows;
}

function generationRows(report: GenerationCompareReport): string[][] {
  const models = report.models;
  const agreement =
    (cell: (a: NonNullable<ComparedGenerator["agreement"]>) => string) => (m: ComparedGenerator) =>
      m.agreement ? cell(m.agreement) : "baseline";
  const rows = commonRows(models, [
    figureRow("time to first token p50", models, (m) => m.time_to_first_token_ms.p50, ms),
    figureRow(
      "decode p50",
      models,
      (m) => m.decode_tokens_per_second.p50,
      (v) => `${v.toFixed(1)} tokens/s`,
    ),
  ]);
  rows.push(
    each(
      models,
      "exact match",
      agreement((a) => percent(a.exact_match)),
    ),
  );
  rows.push(
    each(
      models,
      "token agreement",
      agreement((a) => percent(a.token_agreement)),
    ),
  );
  rows.push(
    each(
      models,
      "first divergence",
      agreement((a) => (a.first_divergence_min === null ? "none" : `after ${a.first_divergence_min} tokens`)),
    ),
  );
  return rows;
}

/** One side-by-side table: the baseline first, each row one figure; --html draws the same table. */
export function reportTable(report: CompareReport): ReportTable {
  const rows = report.kind === "generation" ? generationRows(report) : encoderRows(report);
  return { header: headerOf(report.models), rows };
}
