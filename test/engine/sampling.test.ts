/**
 * The sampler's filters on logits small enough to reason about, the seeded generator, the request checks and
 * the context rule, and stop strings split across pieces.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Sampler, type SamplerSettings } from "../../src/engine/generation/sampler.js";
import { resolveSampling } from "../../src/engine/generation/sampling.js";
import { seededRandom } from "../../src/engine/generation/seeded-random.js";
import { StopStrings } from "../../src/engine/generation/stop-strings.js";
import { toFloat16Bits } from "../../src/onnx/float16.js";
import { UserError } from "../../src/util/errors.js";

const off: SamplerSettings = { temperature: 1, topK: 0, topP: 1, minP: 0, repetitionPenalty: 1 };
const row = (values: number[]) => ({ data: Float32Array.from(values), offset: 0, vocab: values.length });

/** Which tokens `count` draws reach, and how often. */
function draws(settings: Partial<SamplerSettings>, logits: number[], count = 2000): Map<number, number> {
  const sampler = new Sampler({ ...off, ...settings }, seededRandom(1));
  const counts = new Map<number, number>();
  for (let i = 0; i < count; i++) {
    const id = sampler.pick(row(logits), []);
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

// probabilities at temperature 1: 0.5, 0.25, 0.125, 0.0625, 0.0625
const logits = [Math.log(8), Math.log(4), Math.log(2), 0, 0];

describe("sampler", () => {
  test("temperature 0 is argmax, the first index on ties, from float32 or float16 logits", () => {
    const greedy = new Sampler({ ...off, temperature: 0 }, () => 0.99);
    assert.equal(greedy.pick(row([1, 3, 3, 2]), []), 1);
    const half = Uint16Array.from([1, 3, 7, 2].map(toFloat16Bits));
    assert.equal(greedy.pick({ data: half, offset: 0, vocab: 4 }, []), 2);
    // offset: the last position of a [1, 2, vocab] output
    assert.equal(greedy.pick({ data: Float32Array.from([9, 0, 0, 0, 1, 0]), offset: 3, vocab: 3 }, []), 1);
  });

  test("every token can be drawn without filters, in proportion to its probability", () => {
    const counts = draws({}, logits);
    assert.equal(counts.size, 5);
    assert.ok(Math.abs((counts.get(0) as number) / 2000 - 0.5) < 0.05, String(counts.get(0)));
  });

  test("top-k keeps the k likeliest", () => {
    assert.deepEqual([...draws({ topK: 2 }, logits).keys()].sort(), [0, 1]);
  });

  test("top-p keeps the smallest set reaching p (the token that crosses p included)", () => {
    assert.deepEqual([...draws({ topP: 0.7 }, logits).keys()].sort(), [0, 1]);
    assert.deepEqual([...draws({ topP: 0.8 }, logits).keys()].sort(), [0, 1, 2]);
    assert.deepEqual([...draws({ topP: 0.5 }, logits).keys()].sort(), [0]);
  });

  test("top-p on a large vocabulary finds the nucleus among many tiny probabilities", () => {
    const big = Array.from({ length: 50_000 }, (_, i) => (i < 3 ? 20 : 0));
    // three tokens hold 3 e^20 / (3 e^20 + 49997) ≈ 0.99997 of the mass together, a third each
    assert.deepEqual([...draws({ topP: 0.9 }, big, 100).keys()].sort(), [0, 1, 2]);
    assert.deepEqual([...draws({ topP: 0.6 }, big, 100).keys()].sort(), [0, 1]);
    const wide = new Sampler({ ...off, topP: 0.999999 }, () => 0.999999);
    assert.ok(wide.pick(row(big), []) >= 3, "the draw at the very top of the mass lands beyond the three");
  });

  test("min-p drops tokens below min_p × the likeliest", () => {
    assert.deepEqual([...draws({ minP: 0.3 }, logits).keys()].sort(), [0, 1]);
    assert.deepEqual([...draws({ minP: 0.2, topK: 4 }, logits).keys()].sort(), [0, 1, 2]);
  });

  test("a low temperature sharpens, a high one flattens", () => {
    assert.ok((draws({ temperature: 0.1 }, logits).get(0) as number) > 1990);
    assert.ok((draws({ temperature: 10 }, logits).get(0) as number) < 600);
  });

  test("repetition penalty divides positive and multiplies negative logits of seen tokens", () => {
    const greedy = new Sampler({ ...off, temperature: 0, repetitionPenalty: 2 }, () => 0);
    assert.equal(greedy.pick(row([3, 2, -1]), []), 0);
    assert.equal(greedy.pick(row([3, 2, -1]), [0]), 1); // 3 / 2 = 1.5 < 2
    assert.equal(greedy.pick(row([-1, -1.5, -3]), [0]), 1); // -1 * 2 = -2 < -1.5
  });

  test("the same seed draws the same tokens; another seed others", () => {
    const sequence = (seed: number) => {
      const sampler = new Sampler(off, seededRandom(seed));
      const flat = row(Array.from({ length: 1000 }, () => 0));
      return Array.from({ length: 20 }, () => sampler.pick(flat, []));
    };
    assert.deepEqual(sequence(42), sequence(42));
    assert.notDeepEqual(sequence(42), sequence(43));
  });
});

describe("sampling settings", () => {
  test("a request wins over gpux.yml, gpux.yml over the built-in defaults", () => {
    const resolved = resolveSampling(
      { temperature: 0.5 },
      { temperature: 0.6, top_k: 20, context_length: 100 },
      10,
    );
    assert.equal(resolved.temperature, 0.5);
    assert.equal(resolved.topK, 20);
    assert.equal(resolved.topP, 1);
    assert.equal(resolved.maxTokens, 90); // what the context leaves, under the 512 default
  });

  test("out-of-range values and a prompt that does not fit are UserErrors", () => {
    const bad = [{ temperature: -0.1 }, { topP: 0 }, { topK: 1.5 }, { minP: 2 }, { repetitionPenalty: 0 }];
    for (const request of bad) assert.throws(() => resolveSampling(request, {}, 1), UserError);
    assert.throws(
      () => resolveSampling({ maxTokens: 91 }, { context_length: 100 }, 10),
      /exceed the model's context/,
    );
    assert.throws(() => resolveSampling({}, { context_length: 100 }, 100), /context holds 100/);
  });
});

describe("stop strings", () => {
  test("a stop string split across pieces ends the text before it", () => {
    const stops = new StopStrings(["<end>", "STOP"]);
    const shown = ["Hello <e", "n", "d> world"].map((piece) => stops.push(piece));
    assert.deepEqual(shown, [
      { text: "Hello ", stopped: false },
      { text: "", stopped: false },
      { text: "", stopped: true },
    ]);
  });

  test("held text that turns out not to be a stop string is shown", () => {
    const stops = new StopStrings(["<end>"]);
    assert.equal(stops.push("a <e").text, "a ");
    assert.equal(stops.push("x").text, "<ex");
    assert.equal(stops.push("<").text, "");
    assert.equal(stops.flush(), "<");
  });
});
