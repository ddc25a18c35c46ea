import assert from "node:assert/strict";
import { test } from "node:test";
import { call, slowModelSpec, slowRequest, startServer, writeModelFolder } from "../helpers/serving.js";
import { tempDir } from "../helpers/temp-dir.js";

test("/health answers within 50 ms while the model is busy in its worker", async () => {
  const dir = tempDir();
  const server = await startServer([writeModelFolder(dir, "slow", slowModelSpec(32, 8192))], {
    maxBatchSize: 1,
  });
  assert.equal((await call(`${server.url}health`)).status, 200); // first call compiles the route: not measured
  let finished = 0;
  let lastPredictDone = 0;
  const predicts = Array.from({ length: 4 }, () =>
    call(`${server.url}predict`, { body: slowRequest }).then((answer) => {
      finished++;
      lastPredictDone = performance.now();
      return answer;
    }),
  );
  await new Promise((resolve) => setTimeout(resolve, 30));
  const times: number[] = [];
  let lastHealthDone = 0;
  for (let i = 0; i < 20; i++) {
    const answer = await call(`${server.url}health`);
    assert.equal(answer.status, 200);
    times.push(answer.ms);
    lastHealthDone = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.ok(finished < 4, "the model was still busy while /health was answered");
  for (const answer of await Promise.all(predicts)) assert.equal(answer.status, 200);
  assert.ok(lastPredictDone > lastHealthDone);
  // A blocked event loop would hold every answer for a whole session.run (~250 ms here). The 95th percentile
  // is asserted rather than the maximum: on a shared 2-core machine the OS can stall any thread for a moment.
  const sorted = [...times].sort((a, b) => a - b);
  const p95 = sorted[Math.ceil(0.95 * sorted.length) - 1] as number;
  const shown = times.map((t) => t.toFixed(1)).join(", ");
  assert.ok(p95 < 50, `/health p95 ${p95.toFixed(1)} ms (all: ${shown})`);
  assert.ok((sorted[sorted.length - 1] as number) < 200, `/health max over 200 ms (all: ${shown})`);
});
