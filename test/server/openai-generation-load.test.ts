/**
 * A text-generation model under concurrent OpenAI requests (in-process `gpux serve` on 127.0.0.1, the real
 * `openai` client, the tiny qwen3 fixture): concurrent greedy streams equal their solo answers while /health
 * stays fast, a full scheduler answers 429 in OpenAI's shape, and a client that disconnects mid-stream frees
 * its slot so the waiting request starts at once.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import OpenAI, { APIError } from "openai";
import { missingPythonModules } from "../helpers/python.js";
import { call, startServer } from "../helpers/serving.js";
import { causalLmPythonModules, tinyCausalLmsDir } from "../helpers/tiny-causal-lms.js";
import { until } from "../helpers/until.js";

const missing = missingPythonModules([...causalLmPythonModules]);
if (missing && process.env.GPUX_REQUIRE_PYTHON_TESTS === "1") throw new Error(missing);
const slots = 3;
const server = missing
  ? undefined
  : await startServer([join(tinyCausalLmsDir(), "qwen3")], {
      maxConcurrentSequences: slots,
      maxWaitingSequences: 1,
    });
const url = server?.url ?? "";
const client = new OpenAI({ baseURL: `${url}v1`, apiKey: "unused", maxRetries: 0 });

interface GenerationLoad {
  running: number;
  waiting: number;
}
async function load(): Promise<GenerationLoad> {
  const health = await call(`${url}health`);
  return (health.body as { generation: Record<string, GenerationLoad> }).generation.qwen3 as GenerationLoad;
}

/** A greedy stream that is opened and has sent its first chunk (so its sequence holds a slot). */
async function openStream(prompt: string, maxTokens: number) {
  const stream = await client.completions.create({
    model: "qwen3",
    prompt,
    temperature: 0,
    max_tokens: maxTokens,
    stream: true,
  });
  const chunks = stream[Symbol.asyncIterator]();
  const first = await chunks.next();
  assert.ok(!first.done);
  return { stream, chunks };
}

const prompts = ["The capital of France is", "Once upon a time", "1, 2, 3,"];

describe("a generation model under concurrent requests", { skip: missing }, () => {
  test("concurrent greedy streams each equal their solo answer; /health stays fast meanwhile", async () => {
    const solo = [];
    for (const prompt of prompts) {
      const answer = await client.completions.create({
        model: "qwen3",
        prompt,
        temperature: 0,
        max_tokens: 24,
      });
      solo.push(answer.choices[0]?.text);
    }
    let streaming = true;
    const healthMs: number[] = [];
    const probe = (async () => {
      while (streaming) {
        const answer = await call(`${url}health`);
        assert.equal(answer.status, 200);
        healthMs.push(answer.ms);
      }
    })();
    const streamed = await Promise.all(
      prompts.map(async (prompt) => {
        const stream = await client.completions.create({
          model: "qwen3",
          prompt,
          temperature: 0,
          max_tokens: 24,
          stream: true,
        });
        let text = "";
        for await (const chunk of stream) text += chunk.choices[0]?.text ?? "";
        return text;
      }),
    );
    streaming = false;
    await probe;
    assert.deepEqual(streamed, solo);
    healthMs.sort((a, b) => a - b);
    const at = (q: number) => healthMs[Math.floor(healthMs.length * q)] as number;
    const figures = `/health p50 ${at(0.5).toFixed(1)} ms, p99 ${at(0.99).toFixed(1)} ms over ${healthMs.length} probes`;
    // The decode steps run in the model's worker thread. With the session on the event loop, every probe
    // waited behind a forward pass (14 probes in 5 s, p50 ~350 ms, on a 2-core machine at load 17), where
    // this measured p50 3 ms and p99 70 ms: the bounds leave room for a loaded CI machine, not for blocking.
    assert.ok(healthMs.length >= 50, figures);
    assert.ok(at(0.5) < 20, figures);
    assert.ok(at(0.99) < 250, figures);
  });

  test("a full scheduler answers 429; a disconnected stream frees its slot for the waiting request", async () => {
    const running = [];
    for (const prompt of prompts) running.push(await openStream(prompt, 200));
    const counts = await load();
    assert.deepEqual([counts.running, counts.waiting], [slots, 0]);
    // one more waits for a slot ...
    const waitingStart = performance.now();
    const waiting = client.completions.create({
      model: "qwen3",
      prompt: "hi",
      temperature: 0,
      max_tokens: 2,
    });
    await until(async () => (await load()).waiting === 1, "the request to wait");
    // ... and the next one finds no room
    try {
      await client.completions.create({ model: "qwen3", prompt: "hi", max_tokens: 2 });
      assert.fail("admitted past the waiting bound");
    } catch (error) {
      assert.ok(error instanceof APIError, String(error));
      assert.equal(error.status, 429);
      assert.equal(error.type, "rate_limit_error");
      assert.equal(error.code, "rate_limit_exceeded");
      assert.match(error.message, /Too many generation requests/);
    }
    // the first client goes away mid-stream (200 tokens would take many seconds more)
    const left = performance.now();
    running[0]?.stream.controller.abort();
    const answer = await waiting;
    const startedAfterMs = performance.now() - left;
    assert.equal(answer.choices[0]?.finish_reason, "length");
    assert.ok(
      startedAfterMs < 5_000,
      `the waiting request finished ${startedAfterMs.toFixed(0)} ms after the disconnect`,
    );
    assert.ok(performance.now() - waitingStart > startedAfterMs, "it had waited before");
    for (const other of running.slice(1)) other.stream.controller.abort();
    await until(async () => (await load()).running === 0, "every slot to free");
    const after = await client.completions.create({
      model: "qwen3",
      prompt: "hi",
      temperature: 0,
      max_tokens: 2,
    });
    assert.equal(after.choices[0]?.finish_reason, "length");
  });
  test("a waiting request whose client leaves drops out of the queue at once, its prompt never read", async () => {
    const promptTokens = async () => {
      const metrics = String((await call(`${url}metrics`)).body);
      return Number(
        /gpux_generation_prompt_tokens_total\{model="qwen3"[^}]*\} (\d+)/.exec(metrics)?.[1] ?? 0,
      );
    };
    let readByStreams = 0;
    for (const prompt of prompts) {
      const answer = await client.completions.create({ model: "qwen3", prompt, max_tokens: 1 });
      readByStreams += answer.usage?.prompt_tokens ?? 0;
    }
    const before = await promptTokens();
    const running = [];
    for (const prompt of prompts) running.push(await openStream(prompt, 200));
    const leaving = new AbortController();
    const waiting = client.completions
      .create(
        { model: "qwen3", prompt: "a prompt that is never read", max_tokens: 2 },
        { signal: leaving.signal },
      )
      .catch((error: unknown) => error);
    await until(async () => (await load()).waiting === 1, "the request to wait");
    leaving.abort();
    await until(async () => (await load()).waiting === 0, "the queue to let it go");
    assert.equal((await load()).running, slots, "the running streams went on");
    for (const stream of running) stream.stream.controller.abort();
    await until(async () => (await load()).running === 0, "every slot to free");
    await waiting;
    await until(async () => (await promptTokens()) >= before + readByStreams, "the streams' counts");
    assert.equal((await promptTokens()) - before, readByStreams, "only the streams' prompts were read");
  });
});
