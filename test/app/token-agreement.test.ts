import assert from "node:assert/strict";
import { test } from "node:test";
import { tokenAgreementWith } from "../../src/app/compare/token-agreement.js";

const rows = (...continuations: number[][]) => continuations.map((tokens) => [{ tokens }]);

test("token agreement: equal up to the first divergence over the longer continuation; an early stop diverges", () => {
  const baseline = rows([1, 2, 3, 4], [5, 6], [7, 8, 9], []);
  // equal; stops after one token; differs at position 1 then meets again; both empty
  const other = rows([1, 2, 3, 4], [5], [7, 0, 9], []);
  assert.deepEqual(tokenAgreementWith(baseline, other), {
    rows: 4,
    exact_match: 2 / 4,
    token_agreement: (1 + 1 / 2 + 1 / 3 + 1) / 4,
    first_divergence: [null, 1, 1, null],
    first_divergence_min: 1,
  });
  const same = tokenAgreementWith(baseline, baseline);
  assert.deepEqual([same.exact_match, same.token_agreement, same.first_divergence_min], [1, 1, null]);
  // running on past the baseline's end diverges where the baseline stopped
  assert.deepEqual(tokenAgreementWith(rows([1]), rows([1, 2, 3])).first_divergence, [1]);
});
