/**
 * A text-generation model's worker dying (the built `gpux serve` on 127.0.0.1, the tiny qwen3 fixture, the
 * worker a child process as by default): killed from outside mid-stream, as a native abort inside ONNX
 * Runtime would end it, the stream ends with an error event and the waiting request with a 503; /health says
 * so while the server starts a new worker, and then answers as before. A worker that dies again soon is
 * restarted after a growing delay, not in a hot loop.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { greedyCompletion, openCompletionStream } from "../helpers/completion-stream.js";
import { missingPythonModules } from "../helpers/python.js";
import { childPids, spawnServe } from "../helpers/serve-process.js";
import { call } from "../helpers/serving.js";
import { causalLmPythonModules, tinyCausalLmsDir } from "../helpers/tiny-causal-lms.js";
import { until } from "../helpers/until.js";

const missing = missingPythonModules([...causalLmPythonModules]);
if (missing && process.env.GPUX_REQUIRE_PYTHON_TESTS === "1") throw new Error(missing);

// started here, not in a hook: spawnServe ties the process to the enclosing test's end
const serve = missing
  ? undefined
  : await spawnServe([
      join(tinyCausalLmsDir(), "qwen3"),
      "--max-concurrent-sequences",
      "1",
      "--max-waiting-sequences",
      "1",
    ]);

describe("a generation worker that dies", { skip: missing }, () => {
  if (!serve) return;
  const health = () => call(`${serve.url}health`);
  const restarts = async () => {
    const metrics = String((await call(`${serve.url}metrics`)).body);
    const match = /gpux_inference_worker_restarts_total\{model="qwen3",[^}]*\} (\d+)/.exec(metrics);
    return Number(match?.[1] ?? 0);
  };
  before(async () => {
    await until(async () => (await health()).status === 200, "the model to load");
  });

  test("killed mid-stream (SIGABRT): an error event ends the stream, the waiting request gets 503, a new worker answers as before", async () => {
    const solo = await call(`${serve.url}v1/completions`, { body: greedyCompletion("Once upon a time", 8) });
    assert.equal(solo.status, 200, JSON.stringify(solo.body));
    const [worker, ...others] = childPids(serve.child.pid as number);
    assert.ok(worker && others.length === 0, "one generation worker process");

    // 240 tokens (near the context of 256) take seconds here: the worker dies in the middle of them
    const stream = await openCompletionStream(serve.url, greedyCompletion("The capital of France is", 240));
    const firstEvents = await stream.events(3);
    assert.equal(firstEvents.length, 3, stream.all());
    const waiting = call(`${serve.url}v1/completions`, { body: greedyCompletion("hi", 2) });
    await until(async () => {
      const load = (await health()).body as { generation: { qwen3: { waiting: number } } };
      return load.generation.qwen3.waiting === 1;
    }, "the second request to wait for the slot");

    process.kill(worker, "SIGABRT");
    const events = await stream.events();
    assert.equal(events.at(-1), "data: [DONE]", stream.all());
    const failure = JSON.parse((events.at(-2) as string).slice("data: ".length));
    assert.equal(failure.error.type, "server_error", stream.all());
    assert.equal(failure.error.code, "model_not_ready");
    assert.match(failure.error.message, /generation worker of model 'qwen3' died \(signal SIGABRT\)/);
    assert.match(failure.error.message, /Retry in a few seconds/);
    assert.ok(
      events.length < 300,
      `the stream ended early (${events.length} events), not after its 240 tokens`,
    );

    const queued = await waiting;
    assert.equal(queued.status, 503, JSON.stringify(queued.body));
    assert.match((queued.body as { error: { message: string } }).error.message, /died \(signal SIGABRT\)/);

    const during = await health();
    assert.equal(during.status, 503, "not ready while the new worker loads");
    assert.equal((during.body as { status: string }).status, "restarting");
    const refused = await call(`${serve.url}v1/completions`, { body: greedyCompletion("hi", 2) });
    assert.equal(refused.status, 503, "refused meanwhile, not queued into a dead worker");
    assert.match(
      (refused.body as { error: { message: string } }).error.message,
      /restarting its generation worker/,
    );

    await until(async () => (await health()).status === 200, "the new worker");
    const again = await call(`${serve.url}v1/completions`, { body: greedyCompletion("Once upon a time", 8) });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    const text = (answer: unknown) => (answer as { choices: Array<{ text: string }> }).choices[0]?.text;
    assert.equal(text(again.body), text(solo.body), "the same greedy answer as before the crash");
    assert.equal(await restarts(), 1);
    const [replacement] = childPids(serve.child.pid as number);
    assert.ok(replacement && replacement !== worker, "a new worker process");
    assert.match(
      serve.stderr(),
      /generation worker of model 'qwen3' ended \(signal SIGABRT\); starting a new one\n/,
    );
    assert.equal(serve.child.exitCode, null, "the server process is still running");
  });

  test("Ctrl-C or systemd's stop reaching the worker (SIGINT, SIGTERM) leaves it to its server: streams go on", async () => {
    const [worker] = childPids(serve.child.pid as number);
    assert.ok(worker, "a worker process");
    const stream = await openCompletionStream(serve.url, greedyCompletion("The capital of France is", 40));
    assert.equal((await stream.events(2)).length, 2, stream.all());
    process.kill(worker, "SIGINT");
    process.kill(worker, "SIGTERM");
    const events = await stream.events();
    assert.equal(events.at(-1), "data: [DONE]", stream.all());
    assert.doesNotMatch(stream.all(), /"error"/, "the stream ran to its end");
    assert.deepEqual(childPids(serve.child.pid as number), [worker], "the same worker, not restarted");
    assert.equal(await restarts(), 1);
  });

  test("a worker that dies again soon is restarted after 1 s, then 2 s: no hot loop", async () => {
    for (const delaySeconds of [1, 2]) {
      const [worker] = childPids(serve.child.pid as number);
      assert.ok(worker, "a worker process");
      const killed = performance.now();
      process.kill(worker, "SIGKILL");
      await until(async () => (await health()).status === 503, "the death to be seen");
      await new Promise((resolve) => setTimeout(resolve, delaySeconds * 500));
      assert.deepEqual(
        childPids(serve.child.pid as number),
        [],
        "no new worker yet, halfway through the delay",
      );
      await until(async () => (await health()).status === 200, "the new worker");
      const downMs = performance.now() - killed;
      assert.ok(downMs >= delaySeconds * 1000, `down ${downMs.toFixed(0)} ms, delay ${delaySeconds} s`);
      assert.match(
        serve.stderr(),
        new RegExp(`ended \\(signal SIGKILL\\); starting a new one in ${delaySeconds} s\\n`),
      );
    }
    assert.equal(await restarts(), 3);
    const answer = await call(`${serve.url}v1/completions`, { body: greedyCompletion("hi", 2) });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
  });
});
