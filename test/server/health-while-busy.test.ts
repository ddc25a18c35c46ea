import assert from "node:assert/strict";
import { test } from "node:test";
import { call, slowModelSpec, slowRequest, startServer, writeModelFolder } from "../helpers/serving.js";
import { tempDir } from "../helpers/temp-dir.js";

test("/health answers within 50 ms while the model is busy in its worker", async () => {
  const dir = tempDir();
  const server = await startServer([writeModelFolder(dir, "slow", slowModelSpec(32, 8192))], {
    maxBatchSize: 1,
  });
  // First calls compile routes and warm the worker: not measured.
  assert.equal((await call(`${server.url}health`)).status, 200);
  assert.equal((await call(`${server.url}predict`, { body: slowRequest })).status, 200);

  /** Keep the worker busy with `runs` slow requests and time /health meanwhile. */
  const measure = async (runs: number) => {
    let finished = 0;
    const predicts = Array.from({ length: runs }, () =>
      call(`${server.url}predict`, { body: slowRequest }).then((answer) => {
        finished++;
        return answer;
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 30));
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      const answer = await call(`${server.url}health`);
      assert.equal(answer.status, 200);
      times.push(answer.ms);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const busyThroughout = finished < runs;
    for (const answer of await Promise.all(predicts)) assert.equal(answer.status, 200);
    const sorted = [...times].sort((a, b) => a - b);
    return { busyThroughout, times, p95: sorted[Math.ceil(0.95 * sorted.length) - 1] as number };
  };

  // A blocked event loop would hold every answer for a whole session.run (~250 ms here), in every attempt.
  // Other processes on a shared 2-core machine can stall any thread for a moment, so the 95th percentile of
  // 20 calls is asserted, with up to three attempts.
  const attempts: string[] = [];
  for (let attempt = 0; attempt < 3; attempt++) {
    const { busyThroughout, times, p95 } = await measure(4);
    assert.ok(busyThroughout, "the model was still busy while /health was answered");
    attempts.push(`p95 ${p95.toFixed(1)} ms (${times.map((t) => t.toFixed(1)).join(", ")})`);
    if (p95 < 50) return;
  }
  assert.fail(`/health p95 not under 50 ms in three attempts: ${attempts.join("; ")}`);
});
