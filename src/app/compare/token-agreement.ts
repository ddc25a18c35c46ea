import type { ComparableRow } from "./comparable-rows.js";

/** How a generation model's continuations agree with the baseline's, prompt by prompt. */
export interface TokenAgreement {
  /** Prompts compared. */
  rows: number;
  /** Share of prompts whose whole continuation (every token id, and its length) is the baseline's. */
  exact_match: number;
  /**
   * Mean over prompts of the tokens equal up to the first divergence, over the longer continuation's length
   * (1 for equal continuations; one that stops early or runs on counts as diverging where the other goes on).
   */
  token_agreement: number;
  /** Per prompt, the 0-based position of the first token that differs (= equal tokens before it); null: none. */
  first_divergence: Array<number | null>;
  /** The earliest of them; null when every continuation is the baseline's. */
  first_divergence_min: number | null;
}

/** Leading positions where both sequences hold the same id. */
function commonPrefix(a: readonly number[], b: readonly number[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

/** Agreement of `other`'s continuations with the baseline's (one row per prompt, in the same order). */
export function tokenAgreementWith(
  baseline: readonly ComparableRow[][],
  other: readonly ComparableRow[][],
): TokenAgreement {
  const divergences: Array<number | null> = [];
  let exact = 0;
  let fractions = 0;
  baseline.forEach((rows, r) => {
    const a = rows[0]?.tokens ?? [];
    const b = other[r]?.[0]?.tokens ?? [];
    const prefix = commonPrefix(a, b);
    const longer = Math.max(a.length, b.length);
    const same = prefix === longer;
    if (same) exact++;
    fractions += longer === 0 ? 1 : prefix / longer;
    divergences.push(same ? null : prefix);
  });
  const diverged = divergences.filter((d): d is number => d !== null);
  const rows = baseline.length;
  return {
    rows,
    exact_match: rows > 0 ? exact / rows : 0,
    token_agreement: rows > 0 ? fractions / rows : 0,
    first_divergence: divergences,
    first_divergence_min: diverged.length > 0 ? Math.min(...diverged) : null,
  };
}
