/**
 * Continuous batching of generation (GenerationScheduler over DecodeLoop) on the tiny random-weight causal
 * LMs (test/fixtures/make_tiny_causal_lms.py), real ONNX Runtime sessions: concurrent sequences share decode
 * steps and each one's tokens equal its solo run (TextGenerator.generate()); joins and leaves mid-flight,
 * aborts, abandoned streams and a full queue.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { configForFolder } from "../../src/app/resolve.js";
import { GenerationScheduler } from "../../src/engine/generation/generation-scheduler.js";
import type {
  GenerationEvent,
  GenerationSummary,
  TextGenerator,
} from "../../src/engine/generation/generator.js";
import { loadGenerator } from "../../src/engine/generation/load-generator.js";
import type { SamplingRequest } from "../../src/engine/generation/sampling.js";
import { Model } from "../../src/engine/model.js";
import { QueueFullError } from "../../src/engine/serving-errors.js";
import { missingPythonModules } from "../helpers/python.js";
import {
  causalLmPythonModules,
  type TinyCausalLmName,
  tinyCausalLmReference,
  tinyCausalLmsDir,
} from "../helpers/tiny-causal-lms.js";

const missing = missingPythonModules([...causalLmPythonModules]);
if (missing && process.env.GPUX_REQUIRE_PYTHON_TESTS === "1") throw new Error(missing);

/** Eight prompts of different lengths (3 to ~40 tokens), so the batch's rows are padded differently. */
const prompts = [
  "Hi",
  "The quick brown fox",
  "Once upon a time, in a land far away,",
  "日本語のテキスト and some café words 😀",
  "A much longer prompt that goes on and on about the weather, the sea, the mountains and the sky above",
  "1 2 3 4 5 6 7 8 9 10",
  "Why?",
  "Lists: apples, pears, plums, cherries, figs, dates, grapes, lemons, limes and oranges.",
];

interface Outcome {
  events: GenerationEvent[];
  done: GenerationSummary;
  text: string;
}

async function collect(stream: AsyncIterable<GenerationEvent> | Iterable<GenerationEvent>): Promise<Outcome> {
  const events: GenerationEvent[] = [];
  for await (const event of stream) events.push(event);
  const done = events.at(-1);
  assert.equal(done?.type, "done");
  const text = events.map((e) => (e.type === "done" ? "" : e.text)).join("");
  return { events, done: done as GenerationSummary, text };
}

/** What a result must equal between a solo run and a batched one (timings aside). */
function comparable(outcome: Outcome) {
  const { reason, text, promptTokens, tokenIds, seed } = outcome.done;
  return { reason, text, promptTokens, tokenIds, seed, streamed: outcome.text };
}

async function openGenerator(name: TinyCausalLmName): Promise<{ model: Model; generator: TextGenerator }> {
  const config = await configForFolder(join(tinyCausalLmsDir(), name), `tiny/${name}`);
  assert.ok(config);
  const model = await Model.load(config, { origin: "http" });
  return { model, generator: loadGenerator(model) };
}

/** Different max_tokens per prompt, so sequences leave the batch at different steps (seeded: reported). */
const greedy = (i: number): SamplingRequest => ({
  temperature: 0,
  seed: i,
  maxTokens: 6 + 3 * i,
  ignoreEos: i % 2 === 0,
});

for (const name of ["qwen3", "llama", "gpt2"] as const) {
  describe(`continuous batching: ${name}`, { skip: missing }, () => {
    let model: Model;
    let generator: TextGenerator;
    const solo: Outcome[] = [];
    before(async () => {
      ({ model, generator } = await openGenerator(name));
      for (const [i, prompt] of prompts.entries()) {
        solo.push(await collect(generator.generate({ prompt }, greedy(i))));
      }
    });
    after(() => model.dispose());

    test("the solo loop still gives transformers' greedy tokens", async () => {
      const ref = tinyCausalLmReference(name);
      const out = await collect(
        generator.generate({ prompt: ref.plain.prompt }, { temperature: 0, maxTokens: ref.max_new_tokens }),
      );
      const eos = ref.eos_token_id;
      const expected = ref.plain.output_ids.filter(
        (id, i, all) => !(i === all.length - 1 && eos.includes(id)),
      );
      assert.deepEqual(out.done.tokenIds, expected);
    });

    test("8 concurrent greedy sequences share decode steps, each equal to its solo run", async () => {
      const scheduler = new GenerationScheduler(generator, {
        maxConcurrentSequences: 8,
        maxWaitingSequences: 0,
      });
      const streams = prompts.map((prompt, i) =>
        scheduler.submit({ input: { prompt }, sampling: greedy(i) }),
      );
      const batched = await Promise.all(streams.map(collect));
      for (const [i, outcome] of batched.entries()) {
        assert.deepEqual(comparable(outcome), comparable(solo[i] as Outcome), `prompt ${i}: ${prompts[i]}`);
      }
      const stats = scheduler.stats;
      const decoded = batched.reduce((sum, o) => sum + Math.max(0, o.done.tokenIds.length - 1), 0);
      assert.equal(stats.prefills, 8);
      assert.ok(stats.steps < decoded / 2, `${stats.steps} shared steps for ${decoded} decoded tokens`);
      assert.ok(stats.rowSteps / stats.steps > 2, `mean batch ${stats.rowSteps / stats.steps}`);
      // one rebuild when the eight join together, then at most one per step where someone left
      assert.ok(stats.repacks <= 1 + 8, `${stats.repacks} rebuilds`);
      assert.equal(scheduler.running, 0);
    });
  });
}

describe("continuous batching: joins, leaves, aborts and the queue (qwen3)", { skip: missing }, () => {
  let model: Model;
  let generator: TextGenerator;
  before(async () => {
    ({ model, generator } = await openGenerator("qwen3"));
  });
  after(() => model.dispose());

  test("waiting sequences join a running batch as slots free up, with their solo tokens", async () => {
    const solo: Outcome[] = [];
    for (const [i, prompt] of prompts.entries())
      solo.push(await collect(generator.generate({ prompt }, greedy(i))));
    const scheduler = new GenerationScheduler(generator, {
      maxConcurrentSequences: 3,
      maxWaitingSequences: 8,
    });
    let most = 0;
    const watched = prompts.map(async (prompt, i) => {
      const events: GenerationEvent[] = [];
      for await (const event of scheduler.submit({ input: { prompt }, sampling: greedy(i) })) {
        most = Math.max(most, scheduler.running);
        events.push(event);
      }
      return collect(events);
    });
    assert.deepEqual([scheduler.running, scheduler.waiting], [3, 5], "three run, five wait");
    const batched = await Promise.all(watched);
    for (const [i, outcome] of batched.entries()) {
      assert.deepEqual(comparable(outcome), comparable(solo[i] as Outcome), `prompt ${i}`);
    }
    assert.equal(most, 3, "never more than max_concurrent_sequences running");
    assert.equal(scheduler.stats.prefills, 8);
    assert.ok(scheduler.stats.rowSteps / scheduler.stats.steps > 1.5, "joiners decoded beside the others");
    assert.deepEqual([scheduler.running, scheduler.waiting], [0, 0]);
  });

  test("a stop string ends its sequence inside the batch, as alone, while the others go on", async () => {
    const plain: SamplingRequest = { temperature: 0, seed: 3, maxTokens: 24, ignoreEos: true };
    const free = await collect(generator.generate({ prompt: prompts[3] as string }, plain));
    const stop = [...free.done.text].slice(6, 9).join("");
    const stopping: SamplingRequest = { ...plain, stop: [stop] };
    const soloStopped = await collect(generator.generate({ prompt: prompts[3] as string }, stopping));
    assert.equal(soloStopped.done.reason, "stop");
    const others = [0, 1, 2].map((i) => prompts[i] as string);
    const soloOthers: Outcome[] = [];
    for (const prompt of others) soloOthers.push(await collect(generator.generate({ prompt }, plain)));
    const scheduler = new GenerationScheduler(generator, {
      maxConcurrentSequences: 4,
      maxWaitingSequences: 0,
    });
    const [stopped, ...rest] = await Promise.all([
      collect(scheduler.submit({ input: { prompt: prompts[3] as string }, sampling: stopping })),
      ...others.map((prompt) => collect(scheduler.submit({ input: { prompt }, sampling: plain }))),
    ]);
    assert.deepEqual(comparable(stopped as Outcome), comparable(soloStopped));
    for (const [i, outcome] of rest.entries())
      assert.deepEqual(comparable(outcome), comparable(soloOthers[i] as Outcome));
  });

  test("seeded sampling in a batch draws the same tokens as alone", async () => {
    const sampled = (i: number): SamplingRequest => ({
      temperature: 0.9,
      topP: 0.95,
      seed: 7 + i,
      maxTokens: 12,
    });
    const solo: Outcome[] = [];
    for (const [i, prompt] of prompts.entries())
      solo.push(await collect(generator.generate({ prompt }, sampled(i))));
    const scheduler = new GenerationScheduler(generator, {
      maxConcurrentSequences: 8,
      maxWaitingSequences: 0,
    });
    const batched = await Promise.all(
      prompts.map((prompt, i) => collect(scheduler.submit({ input: { prompt }, sampling: sampled(i) }))),
    );
    for (const [i, outcome] of batched.entries()) {
      assert.deepEqual(comparable(outcome), comparable(solo[i] as Outcome), `prompt ${i}`);
    }
  });

  test("an aborted sequence stops at the next step and its slot goes to a waiting one; the others go on", async () => {
    const long: SamplingRequest = { temperature: 0, seed: 1, maxTokens: 40, ignoreEos: true };
    const soloOther = await collect(generator.generate({ prompt: prompts[1] as string }, long));
    const soloWaiting = await collect(generator.generate({ prompt: prompts[2] as string }, long));
    const scheduler = new GenerationScheduler(generator, {
      maxConcurrentSequences: 2,
      maxWaitingSequences: 1,
    });
    const controller = new AbortController();
    const aborted = (async () => {
      const events: GenerationEvent[] = [];
      for await (const event of scheduler.submit({
        input: { prompt: prompts[0] as string },
        sampling: long,
        signal: controller.signal,
      })) {
        events.push(event);
        if (events.length === 3) {
          controller.abort();
          // admission moves at the step after the abort, long before the other's 40 tokens end
          assert.equal(scheduler.waiting, 1);
        }
      }
      return events;
    })();
    const other = collect(scheduler.submit({ input: { prompt: prompts[1] as string }, sampling: long }));
    const waiting = collect(scheduler.submit({ input: { prompt: prompts[2] as string }, sampling: long }));
    const events = await aborted;
    const done = events.at(-1) as GenerationSummary & { type: string };
    assert.equal(done.type, "done");
    assert.equal(done.reason, "abort");
    assert.ok(
      done.tokenIds.length <= 4,
      `stopped at the next step, not after ${done.tokenIds.length} tokens`,
    );
    const [otherOut, waitingOut] = await Promise.all([other, waiting]);
    assert.deepEqual(comparable(otherOut), comparable(soloOther));
    assert.deepEqual(comparable(waitingOut), comparable(soloWaiting));
    assert.ok(
      waitingOut.done.timeToFirstTokenMs < otherOut.done.timeToFirstTokenMs + otherOut.done.decodeMs,
      "the waiting one started before the other finished",
    );
    assert.deepEqual([scheduler.running, scheduler.waiting], [0, 0]);
  });

  test("a stream the reader leaves (a client gone) frees its slot; an abort while waiting leaves the queue", async () => {
    const scheduler = new GenerationScheduler(generator, {
      maxConcurrentSequences: 1,
      maxWaitingSequences: 2,
    });
    const long: SamplingRequest = { temperature: 0, maxTokens: 200, ignoreEos: true };
    const first = scheduler.submit({ input: { prompt: "left early" }, sampling: long });
    await first.next();
    await first.next();
    const controller = new AbortController();
    const queued = collect(
      scheduler.submit({ input: { prompt: "waits" }, sampling: long, signal: controller.signal }),
    );
    const next = collect(
      scheduler.submit({ input: { prompt: "next" }, sampling: { temperature: 0, maxTokens: 3 } }),
    );
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual([scheduler.running, scheduler.waiting], [1, 2]);
    controller.abort();
    const gone = await queued;
    assert.equal(gone.done.reason, "abort");
    assert.deepEqual(gone.done.tokenIds, [], "aborted before its prefill");
    assert.equal(gone.done.promptRead, false);
    assert.equal(scheduler.waiting, 1);
    await first.return(undefined);
    const nextOut = await next;
    assert.equal(nextOut.done.tokenIds.length, 3, "the waiting request ran once the reader left");
    assert.deepEqual([scheduler.running, scheduler.waiting], [0, 0]);
    // left running, the abandoned sequence would decode its 200 tokens before the next one's 3
    assert.ok(scheduler.stats.steps < 150, `the abandoned sequence stopped (${scheduler.stats.steps} steps)`);
  });

  test("a sequence whose client leaves while another is prefilled is never prefilled itself", async () => {
    const scheduler = new GenerationScheduler(generator, {
      maxConcurrentSequences: 3,
      maxWaitingSequences: 0,
    });
    const sampling: SamplingRequest = { temperature: 0, maxTokens: 4, ignoreEos: true };
    const controller = new AbortController();
    // the three arrive together, so one tick prefills them one after the other
    const first = (async () => {
      const events: GenerationEvent[] = [];
      for await (const event of scheduler.submit({ input: { prompt: prompts[4] as string }, sampling })) {
        events.push(event);
        if (events.length === 1) controller.abort(); // the third's client leaves after the first's prefill
      }
      return events;
    })();
    const second = collect(scheduler.submit({ input: { prompt: prompts[7] as string }, sampling }));
    const third = collect(
      scheduler.submit({ input: { prompt: prompts[2] as string }, sampling, signal: controller.signal }),
    );
    const [, secondOut, gone] = await Promise.all([first, second, third]);
    assert.equal(secondOut.done.tokenIds.length, 4);
    assert.equal(gone.done.reason, "abort");
    assert.deepEqual(gone.done.tokenIds, []);
    assert.equal(gone.done.promptRead, false, "its prompt was never read");
    assert.equal(scheduler.stats.prefills, 2, "two prefills, not three");
    assert.deepEqual([scheduler.running, scheduler.waiting], [0, 0]);
  });

  test("beyond max_concurrent_sequences + max_waiting_sequences a request is refused with 429", async () => {
    const scheduler = new GenerationScheduler(generator, {
      maxConcurrentSequences: 1,
      maxWaitingSequences: 1,
    });
    const request: SamplingRequest = { temperature: 0, maxTokens: 4 };
    const a = scheduler.submit({ input: { prompt: "one" }, sampling: request });
    const b = scheduler.submit({ input: { prompt: "two" }, sampling: request });
    const readA = collect(a);
    const readB = collect(b);
    await new Promise((resolve) => setImmediate(resolve));
    assert.throws(
      () => scheduler.submit({ input: { prompt: "three" }, sampling: request }),
      (error: unknown) => error instanceof QueueFullError && error.httpStatus === 429,
    );
    await Promise.all([readA, readB]);
  });

  test("a bad request fails on its own without taking a slot", async () => {
    const scheduler = new GenerationScheduler(generator, {
      maxConcurrentSequences: 1,
      maxWaitingSequences: 0,
    });
    await assert.rejects(collect(scheduler.submit({ input: { prompt: "  " } })), /prompt is empty/);
    assert.equal(scheduler.running, 0);
    const ok = await collect(scheduler.submit({ input: { prompt: "fine" }, sampling: { maxTokens: 2 } }));
    assert.ok(ok.done.tokenIds.length > 0);
  });

  test("a graph that cannot batch runs each sequence alone, with the same tokens", async () => {
    const solo: Outcome[] = [];
    for (const [i, prompt] of prompts.slice(0, 4).entries()) {
      solo.push(await collect(generator.generate({ prompt }, greedy(i))));
    }
    // as for a graph without position_ids: DecoderSession.canBatch is false
    Object.defineProperty(generator.decoder, "canBatch", { value: false });
    try {
      const scheduler = new GenerationScheduler(generator, {
        maxConcurrentSequences: 4,
        maxWaitingSequences: 0,
      });
      const batched = await Promise.all(
        prompts
          .slice(0, 4)
          .map((prompt, i) => collect(scheduler.submit({ input: { prompt }, sampling: greedy(i) }))),
      );
      for (const [i, outcome] of batched.entries())
        assert.deepEqual(comparable(outcome), comparable(solo[i] as Outcome));
      assert.equal(scheduler.stats.rowSteps, scheduler.stats.steps, "every step had one row");
      assert.equal(scheduler.stats.repacks, 0, "no cache was copied");
    } finally {
      Object.defineProperty(generator.decoder, "canBatch", { value: true });
    }
  });
});
