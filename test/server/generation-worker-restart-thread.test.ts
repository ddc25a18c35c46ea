/**
 * A text-generation model's worker thread ending under `--isolation thread` (`gpux serve` in this process on
 * 127.0.0.1, the tiny qwen3 fixture). No signal reaches a thread from outside its process, so the test ends it
 * the one way a host can: `worker.terminate()` (the host's kill()). It does so between requests: terminating
 * the thread during a forward pass aborts the whole process here ("terminate called after throwing an
 * instance of 'Napi::Error'" from onnxruntime-node), which is what `--isolation process` exists for (the
 * mid-stream case is generation-worker-restart.test.ts, on a child process). Like a dead child process, the
 * ended thread is replaced: /health says "restarting" and requests get 503 meanwhile, then a new thread
 * answers as before.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { ServedModel } from "../../src/engine/served-model.js";
import type { WorkerHost } from "../../src/engine/worker-host.js";
import { greedyCompletion } from "../helpers/completion-stream.js";
import { missingPythonModules } from "../helpers/python.js";
import { call, startServer } from "../helpers/serving.js";
import { causalLmPythonModules, tinyCausalLmsDir } from "../helpers/tiny-causal-lms.js";
import { until } from "../helpers/until.js";

const missing = missingPythonModules([...causalLmPythonModules]);
if (missing && process.env.GPUX_REQUIRE_PYTHON_TESTS === "1") throw new Error(missing);

const server = missing
  ? undefined
  : await startServer([join(tinyCausalLmsDir(), "qwen3")], {
      isolation: "thread",
    });
const url = server?.url ?? "";

/**
 * The host of the model's generation worker thread. ServedGeneration keeps it private (nothing outside it
 * should end the worker), so the test reads the field the way the running code does.
 */
function generationHost(model: ServedModel): WorkerHost<object, unknown> {
  const internals = model.generation as unknown as { link?: { host: WorkerHost<object, unknown> } };
  const host = internals.link?.host;
  assert.ok(host, "the model has a running generation worker");
  assert.equal(host.pid, undefined, "a thread host, not a process");
  return host;
}

describe("a generation worker thread that is terminated", { skip: missing }, () => {
  test("between requests: /health says restarting, requests get 503, then a new thread answers as before", async () => {
    const model = server?.models[0] as ServedModel;
    const solo = await call(`${url}v1/completions`, { body: greedyCompletion("Once upon a time", 8) });
    assert.equal(solo.status, 200, JSON.stringify(solo.body));
    const host = generationHost(model);
    const ended = new Promise<string>((resolve) => host.onExit(resolve));

    host.kill();
    assert.equal(await ended, "exit code 1");
    const during = await call(`${url}health`);
    assert.equal(during.status, 503, "not ready while the new worker loads");
    assert.equal((during.body as { status: string }).status, "restarting");
    const refused = await call(`${url}v1/completions`, { body: greedyCompletion("hi", 2) });
    assert.equal(refused.status, 503, "refused meanwhile, not queued into a dead worker");
    assert.match(
      (refused.body as { error: { message: string } }).error.message,
      /restarting its generation worker/,
    );

    await until(async () => (await call(`${url}health`)).status === 200, "the new worker thread");
    const again = await call(`${url}v1/completions`, { body: greedyCompletion("Once upon a time", 8) });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    const text = (answer: unknown) => (answer as { choices: Array<{ text: string }> }).choices[0]?.text;
    assert.equal(text(again.body), text(solo.body), "the same greedy answer as before");
    assert.notEqual(generationHost(model), host, "a new worker thread");
    const metrics = String((await call(`${url}metrics`)).body);
    assert.match(metrics, /gpux_inference_worker_restarts_total\{model="qwen3",[^}]*\} 1\n/);
  });
});
