import assert from "node:assert/strict";
import { test } from "node:test";
import { childPids, spawnServe } from "../helpers/serve-process.js";
import { addOneSpec, call, slowModelSpec, slowRequest, writeModelFolder } from "../helpers/serving.js";
import { tempDir } from "../helpers/temp-dir.js";

const dir = tempDir();

test("serve: an inference worker dying mid-request answers 503, the server restarts it and recovers", async () => {
  const folder = writeModelFolder(
    dir,
    "add-one",
    addOneSpec,
    "name: add-one\nmodel:\n  source: model.onnx\n",
  );
  // The worker dies (exit code 134, as on SIGABRT) while running its second request.
  process.env.GPUX_TEST_WORKER_EXIT_ON_RUN = "2";
  const serve = await spawnServe([folder]);
  delete process.env.GPUX_TEST_WORKER_EXIT_ON_RUN;
  const health = () => call(`${serve.url}health`);
  for (let i = 0; i < 100 && (await health()).status !== 200; i++)
    await new Promise((r) => setTimeout(r, 50));

  const first = await call(`${serve.url}predict`, { body: { x: [[1, 2, 3, 4]] } });
  assert.equal(first.status, 200, JSON.stringify(first.body));

  const crashed = await call(`${serve.url}predict`, { body: { x: [[1, 2, 3, 4]] } });
  assert.equal(crashed.status, 503, JSON.stringify(crashed.body));
  const body = crashed.body as { error: string; hint?: string };
  assert.match(body.error, /inference worker .* died \(exit code 134\)/);
  assert.match(body.hint ?? "", /Retry/);

  const during = await health();
  assert.equal(during.status, 503, "not ready while no inference worker is up");
  assert.equal((during.body as { status: string }).status, "restarting");
  const refused = await call(`${serve.url}predict`, { body: { x: [[0, 0, 0, 0]] } });
  assert.equal(refused.status, 503, "requests meanwhile are refused, not queued into a dead worker");

  let ready = during;
  for (let i = 0; i < 200 && ready.status !== 200; i++) {
    await new Promise((r) => setTimeout(r, 50));
    ready = await health();
  }
  assert.equal(ready.status, 200, "healthy again once the new worker is up");
  const after = await call(`${serve.url}predict`, { body: { x: [[5, 6, 7, 8]] } });
  assert.equal(after.status, 200, JSON.stringify(after.body));
  assert.deepEqual(after.body, { y: [[6, 7, 8, 9]] });

  const metrics = await call(`${serve.url}metrics`);
  assert.match(String(metrics.body), /gpux_inference_worker_restarts_total\{model="add-one",[^}]*\} 1\b/);
  assert.equal(serve.child.exitCode, null, "the server process is still running");
  assert.match(serve.stderr(), /inference worker ended \(exit code 134\); starting a new one/);
});

test("serve: the inference process killed by SIGABRT mid-request (a native abort) answers 503, the server lives and recovers", async () => {
  const folder = writeModelFolder(
    dir,
    "slow",
    slowModelSpec(96, 4096),
    "name: slow\nmodel:\n  source: model.onnx\n",
  );
  const serve = await spawnServe([folder]);
  const health = () => call(`${serve.url}health`);
  for (let i = 0; i < 200 && (await health()).status !== 200; i++)
    await new Promise((r) => setTimeout(r, 50));
  assert.equal((await health()).status, 200);
  const [inference, ...others] = childPids(serve.child.pid as number);
  assert.ok(inference && others.length === 0, "one inference process");

  const running = call(`${serve.url}predict`, { body: slowRequest });
  await new Promise((r) => setTimeout(r, 200)); // inside the run (1.5-5 s on this model here)
  process.kill(inference, "SIGABRT");
  const crashed = await running;
  assert.equal(crashed.status, 503, JSON.stringify(crashed.body));
  assert.match((crashed.body as { error: string }).error, /died \(signal SIGABRT\)/);

  let ready = await health();
  for (let i = 0; i < 400 && ready.status !== 200; i++) {
    await new Promise((r) => setTimeout(r, 50));
    ready = await health();
  }
  assert.equal(ready.status, 200, "healthy again once the new process is up");
  const after = await call(`${serve.url}predict`, { body: slowRequest });
  assert.equal(after.status, 200, JSON.stringify(after.body));
  const metrics = await call(`${serve.url}metrics`);
  assert.match(String(metrics.body), /gpux_inference_worker_restarts_total\{model="slow",[^}]*\} 1\b/);
  assert.equal(serve.child.exitCode, null, "the server process is still running");
  const [replacement] = childPids(serve.child.pid as number);
  assert.ok(replacement && replacement !== inference, "a new inference process");

  serve.child.kill("SIGKILL");
  await serve.exited;
  // the worker notices its server is gone and ends: nothing is orphaned
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(replacement, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`inference process ${replacement} outlived its server`);
});

test("serve: an inference process that dies again soon after its restart waits 1 s before the next one: no hot loop", async () => {
  const folder = writeModelFolder(
    dir,
    "add-one-again",
    addOneSpec,
    "name: add-one-again\nmodel:\n  source: model.onnx\n",
  );
  const serve = await spawnServe([folder]);
  const health = () => call(`${serve.url}health`);
  const healthy = async () => {
    for (let i = 0; i < 400 && (await health()).status !== 200; i++)
      await new Promise((r) => setTimeout(r, 25));
  };
  await healthy();
  for (const expected of ["starting a new one\n", "starting a new one in 1 s\n"]) {
    const [inference] = childPids(serve.child.pid as number);
    assert.ok(inference, "an inference process");
    const killed = performance.now();
    process.kill(inference, "SIGKILL");
    for (let i = 0; i < 200 && (await health()).status === 200; i++)
      await new Promise((r) => setTimeout(r, 10));
    if (expected.includes("in 1 s")) {
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(childPids(serve.child.pid as number), [], "no new process halfway through the delay");
    }
    await healthy();
    assert.equal((await health()).status, 200);
    if (expected.includes("in 1 s")) assert.ok(performance.now() - killed >= 1000, "waited out the delay");
    assert.ok(
      serve.stderr().includes(`inference worker ended (signal SIGKILL); ${expected}`),
      serve.stderr(),
    );
  }
  const after = await call(`${serve.url}predict`, { body: { x: [[1, 2, 3, 4]] } });
  assert.deepEqual(after.body, { y: [[2, 3, 4, 5]] });
  serve.child.kill("SIGTERM");
  await serve.exited;
});
