/**
 * The whole-answer deadline of a generation (the built `gpux serve --generation-timeout-ms 400` on 127.0.0.1,
 * the tiny qwen3 fixture, one slot). Its answers to the prompts here reach no EOS within 240 tokens, which
 * take seconds on this machine (~10 ms a token), while the first token comes in ~10 ms: past 400 ms a
 * non-streamed answer is a 504 in its route's error shape (the real `openai` client sees an APIError 504), a
 * stream ends with one error event and `[DONE]` after its tokens, the slot goes at once to the waiting
 * request, and each 504 counts as a timeout in /metrics.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import OpenAI, { APIError } from "openai";
import { parseConfigText } from "../../src/config/load-config.js";
import { modelServingOptions } from "../../src/engine/serving-options.js";
import { UserError } from "../../src/util/errors.js";
import { runCli } from "../helpers/cli.js";
import { greedyCompletion, openCompletionStream } from "../helpers/completion-stream.js";
import { missingPythonModules } from "../helpers/python.js";
import { spawnServe } from "../helpers/serve-process.js";
import { call, startServer } from "../helpers/serving.js";
import { causalLmPythonModules, tinyCausalLmsDir } from "../helpers/tiny-causal-lms.js";
import { until } from "../helpers/until.js";

const missing = missingPythonModules([...causalLmPythonModules]);
if (missing && process.env.GPUX_REQUIRE_PYTHON_TESTS === "1") throw new Error(missing);

const deadlineMs = 400;
/** Near the fixture's context of 256: seconds of decoding here, far past the deadline. */
const longTokens = 240;
const expectedMessage = new RegExp(`Model 'qwen3' did not finish its answer within ${deadlineMs} ms\\.`);
const expectedHint = /Ask for fewer tokens \(max_tokens\), or raise --generation-timeout-ms/;

// started here, not in a hook: spawnServe ties the process to the enclosing test's end
const serve = missing
  ? undefined
  : await spawnServe([
      join(tinyCausalLmsDir(), "qwen3"),
      "--generation-timeout-ms",
      String(deadlineMs),
      "--max-concurrent-sequences",
      "1",
      "--max-waiting-sequences",
      "1",
    ]);
const url = serve?.url ?? "";
// in this process, with the defaults but a short timeout_ms: the first-token deadline beside the whole one
const firstTokenServer = missing
  ? undefined
  : await startServer([join(tinyCausalLmsDir(), "qwen3")], {
      timeoutMs: 300,
      maxConcurrentSequences: 1,
      maxWaitingSequences: 1,
    });
const client = new OpenAI({ baseURL: `${url}v1`, apiKey: "unused", maxRetries: 0 });

/** gpux_inference_request_failure_total for qwen3 with reason timeout. */
async function timeouts(): Promise<number> {
  const metrics = String((await call(`${url}metrics`)).body);
  const match = /gpux_inference_request_failure_total\{model="qwen3",[^}]*reason="timeout"\} (\d+)/.exec(
    metrics,
  );
  return Number(match?.[1] ?? 0);
}

describe("a generation past --generation-timeout-ms", { skip: missing }, () => {
  before(async () => {
    await until(async () => (await call(`${url}health`)).status === 200, "the model to load", 60_000);
  });

  test("non-streamed: 504 in OpenAI's shape on /v1 (an APIError 504 in the openai client), {error, hint} on /predict", async () => {
    const before = await timeouts();
    const started = performance.now();
    let caught: unknown;
    try {
      await client.chat.completions.create({
        model: "qwen3",
        messages: [{ role: "user", content: "Tell me a story" }],
        temperature: 0,
        max_tokens: longTokens,
      });
    } catch (error) {
      caught = error;
    }
    const tookMs = performance.now() - started;
    assert.ok(caught instanceof APIError, `an APIError, got ${String(caught)}`);
    assert.equal(caught.status, 504);
    assert.equal(caught.code, "timeout");
    assert.equal(caught.type, "server_error");
    assert.match(caught.message, expectedMessage);
    assert.match(caught.message, expectedHint);
    assert.ok(tookMs >= deadlineMs, `answered after the deadline (${tookMs.toFixed(0)} ms), not before`);

    const completions = await call(`${url}v1/completions`, {
      body: greedyCompletion("The capital of France is", longTokens),
    });
    assert.equal(completions.status, 504, JSON.stringify(completions.body));
    const body = completions.body as { error: Record<string, unknown> };
    assert.deepEqual(Object.keys(body), ["error"]);
    assert.deepEqual(
      { ...body.error, message: undefined },
      { message: undefined, type: "server_error", param: null, code: "timeout" },
    );
    assert.match(String(body.error.message), expectedMessage);

    const predict = await call(`${url}predict`, {
      body: { prompt: "The capital of France is", temperature: 0, max_tokens: longTokens },
    });
    assert.equal(predict.status, 504, JSON.stringify(predict.body));
    const gpuxBody = predict.body as { error: string; hint: string };
    assert.match(gpuxBody.error, expectedMessage);
    assert.match(gpuxBody.hint, expectedHint);
    assert.equal(await timeouts(), before + 3, "each 504 counted as a timeout");
  });

  test("streamed: tokens, then one error event in OpenAI's shape, [DONE], and the stream closes", async () => {
    const before = await timeouts();
    const stream = await openCompletionStream(url, greedyCompletion("The capital of France is", longTokens));
    const events = await stream.events();
    assert.equal(events.at(-1), "data: [DONE]", stream.all());
    const payloads = events.slice(0, -1).map((event) => {
      assert.match(event, /^data: /);
      return JSON.parse(event.slice("data: ".length));
    });
    const failure = payloads.at(-1);
    assert.deepEqual(Object.keys(failure), ["error"], stream.all());
    assert.equal(failure.error.type, "server_error");
    assert.equal(failure.error.code, "timeout");
    assert.equal(failure.error.param, null);
    assert.match(failure.error.message, expectedMessage);
    assert.match(failure.error.message, expectedHint);
    const chunks = payloads.slice(0, -1);
    assert.ok(chunks.length >= 1, "some tokens came before the deadline");
    assert.ok(chunks.length < longTokens, `${chunks.length} chunks: stopped, not run to its ${longTokens}`);
    for (const chunk of chunks) {
      assert.equal(chunk.object, "text_completion");
      assert.equal(chunk.choices[0].finish_reason, null, "no chunk says the answer finished");
    }
    assert.equal((await call(`${url}health`)).status, 200, "the server goes on");
    assert.equal(await timeouts(), before + 1);
  });

  test("streamed through the openai client: the iteration throws the deadline's APIError", async () => {
    const stream = await client.chat.completions.create({
      model: "qwen3",
      messages: [{ role: "user", content: "Tell me a story" }],
      temperature: 0,
      max_tokens: longTokens,
      stream: true,
    });
    let deltas = 0;
    let caught: unknown;
    try {
      for await (const chunk of stream) if (chunk.choices[0]?.delta.content) deltas++;
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof APIError, `an APIError, got ${String(caught)}`);
    assert.match(caught.message, expectedMessage);
    assert.ok(deltas >= 1 && deltas < longTokens, `${deltas} deltas before the error`);
  });

  test("its slot is freed at the deadline: the waiting request starts at once", async () => {
    const started = performance.now();
    const first = await openCompletionStream(url, greedyCompletion("The capital of France is", longTokens));
    assert.equal((await first.events(2)).length, 2, first.all());
    const firstEnded = first.events().then((events) => ({ events, at: performance.now() }));
    // the second is sent 3/4 into the first's 400 ms: its own deadline leaves it ~300 ms after the first's to
    // get the slot and answer, so a 200 shows the slot came at once (not after the first's 240 tokens)
    await new Promise((resolve) => setTimeout(resolve, started + deadlineMs * 0.75 - performance.now()));
    const answer = await call(`${url}v1/completions`, { body: greedyCompletion("Once upon a time", 2) });
    const answeredAt = performance.now();
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    const text = answer.body as {
      choices: Array<{ finish_reason: string }>;
      usage: { completion_tokens: number };
    };
    assert.equal(text.choices[0]?.finish_reason, "length");
    assert.equal(text.usage.completion_tokens, 2);
    const { events, at } = await firstEnded;
    assert.equal(events.at(-1), "data: [DONE]");
    assert.match(events.at(-2) as string, /"code":"timeout"/);
    assert.ok(at <= answeredAt, "the second waited for the first's slot: answered after the first was cut");
    await until(async () => {
      const health = (await call(`${url}health`)).body as {
        generation: { qwen3: { running: number; waiting: number } };
      };
      return health.generation.qwen3.running === 0 && health.generation.qwen3.waiting === 0;
    }, "both sequences to leave");
  });
});

describe("generation_timeout_ms as a setting", () => {
  test("read from gpux.yml, the flag wins, 300 000 ms by default; 0 is refused in gpux.yml and as an option", () => {
    const yml = (serving: string) =>
      parseConfigText(`name: m\nmodel:\n  source: model.onnx\nserving:\n${serving}`).config;
    const config = yml("  generation_timeout_ms: 1234\n");
    assert.equal(modelServingOptions(config).generationTimeoutMs, 1234);
    assert.equal(modelServingOptions(config, { generationTimeoutMs: 99 }).generationTimeoutMs, 99);
    assert.equal(modelServingOptions(yml("  port: 1\n")).generationTimeoutMs, 300_000);
    assert.throws(
      () => yml("  generation_timeout_ms: 0\n"),
      /gpux\.yml:\d+:\d+ serving\.generation_timeout_ms/,
    );
    assert.throws(
      () => modelServingOptions(config, { generationTimeoutMs: 0 }),
      (error) =>
        error instanceof UserError &&
        /generation_timeout_ms must be > 0 ms, got 0/.test(error.message) &&
        /--generation-timeout-ms/.test(error.hint ?? ""),
    );
  });

  test("gpux serve --generation-timeout-ms 0 exits 1 with a message", async () => {
    const result = await runCli(["serve", "--generation-timeout-ms", "0", "--port", "0"]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, /--generation-timeout-ms must be a number ≥ 1/);
  });
});

describe("timeout_ms still bounds the wait for the first token", { skip: missing }, () => {
  test("a request that waits for the slot past timeout_ms is 504 and leaves the queue; the running stream goes on", async () => {
    const base = firstTokenServer?.url ?? "";
    const running = await openCompletionStream(
      base,
      greedyCompletion("The capital of France is", longTokens),
    );
    assert.equal((await running.events(2)).length, 2, running.all());
    const waiting = await call(`${base}v1/completions`, { body: greedyCompletion("Once upon a time", 2) });
    assert.equal(waiting.status, 504, JSON.stringify(waiting.body));
    const message = (waiting.body as { error: { message: string; code: string } }).error;
    assert.equal(message.code, "timeout");
    assert.match(message.message, /Model 'qwen3' did not answer within 300 ms\. .*--timeout-ms/);
    await until(
      async () => {
        const health = (await call(`${base}health`)).body as {
          generation: { qwen3: { running: number; waiting: number } };
        };
        return health.generation.qwen3.running === 1 && health.generation.qwen3.waiting === 0;
      },
      "the timed-out request to leave the queue while the stream runs",
      2_000,
    );
    const events = await running.events();
    assert.equal(events.at(-1), "data: [DONE]");
    assert.doesNotMatch(running.all(), /"error"/, "the running stream ran to its end");
    assert.match(events.at(-2) as string, /"finish_reason":"length"/);
  });
});
