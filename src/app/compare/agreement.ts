import { cosine } from "../../pipeline/tasks/feature-extraction.js";
import type { ComparableRow, CompareKind } from "./comparable-rows.js";

/** How a model's answers agree with the baseline's, over every row of every request. */
export interface Agreement {
  /** Rows compared (one per text or image; a raw request is one row). */
  rows: number;
  /** Share of rows whose top-1 label is the baseline's (classifiers). */
  top1_agreement?: number;
  /** Largest and mean |difference| of every score (classifiers), embedding value, or raw output value;
   * null when the two answers do not line up (other labels, other lengths). */
  max_abs_diff: number | null;
  mean_abs_diff: number | null;
  /** Cosine similarity of each row's embedding with the baseline's: mean and lowest (embedding models). */
  cosine_mean?: number;
  cosine_min?: number;
}

/** The values two rows are diffed on, paired; undefined when they do not line up. */
function pairedValues(a: ComparableRow, b: ComparableRow): Array<[number, number]> | undefined {
  if (a.scores && b.scores) {
    const labels = Object.keys(a.scores);
    if (labels.length !== Object.keys(b.scores).length || labels.some((l) => !(l in (b.scores ?? {}))))
      return undefined;
    return labels.map((label) => [a.scores?.[label] as number, b.scores?.[label] as number]);
  }
  if (!a.vector || !b.vector || a.vector.length !== b.vector.length) return undefined;
  const bv = b.vector;
  return a.vector.map((value, i) => [value, bv[i] as number]);
}

/** Agreement of `other`'s rows with the baseline's, request by request (both answered the same requests). */
export function agreementWith(
  baseline: readonly ComparableRow[][],
  other: readonly ComparableRow[][],
  kind: CompareKind,
): Agreement {
  let rows = 0;
  let sameLabel = 0;
  let lined = true;
  let maxDiff = 0;
  let sumDiff = 0;
  let values = 0;
  const cosines: number[] = [];
  baseline.forEach((baseRows, r) => {
    const otherRows = other[r] ?? [];
    if (otherRows.length !== baseRows.length) lined = false;
    baseRows.forEach((a, i) => {
      const b = otherRows[i];
      if (!b) return;
      rows++;
      if (a.label !== undefined && a.label === b.label) sameLabel++;
      const pairs = pairedValues(a, b);
      if (!pairs) {
        lined = false;
        return;
      }
      for (const [x, y] of pairs) {
        const diff = Math.abs(x - y);
        maxDiff = Math.max(maxDiff, diff);
        sumDiff += diff;
        values++;
      }
      if (kind === "embedding" && a.vector && b.vector && a.vector.length > 1)
        cosines.push(cosine(a.vector, b.vector));
    });
  });
  const agreement: Agreement = {
    rows,
    max_abs_diff: lined && values > 0 ? maxDiff : null,
    mean_abs_diff: lined && values > 0 ? sumDiff / values : null,
  };
  if (kind === "classification") agreement.top1_agreement = rows > 0 ? sameLabel / rows : 0;
  if (cosines.length > 0) {
    agreement.cosine_mean = cosines.reduce((s, c) => s + c, 0) / cosines.length;
    agreement.cosine_min = Math.min(...cosines);
  }
  return agreement;
}

/** Share of labelled rows whose top-1 label is the expected one; undefined without labels. */
export function accuracyOf(
  rows: readonly ComparableRow[][],
  labels: ReadonlyArray<readonly string[] | undefined>,
): number | undefined {
  let labelled = 0;
  let correct = 0;
  labels.forEach((expected, r) => {
    expected?.forEach((label, i) => {
      labelled++;
      if (rows[r]?.[i]?.label === label) correct++;
    });
  });
  return labelled > 0 ? correct / labelled : undefined;
}
