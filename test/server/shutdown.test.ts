import assert from "node:assert/strict";
import { test } from "node:test";
import { spawnServe } from "../helpers/serve-process.js";
import { call, slowModelSpec, writeModelFolder } from "../helpers/serving.js";
import { tempDir } from "../helpers/temp-dir.js";

test("SIGTERM during load: every accepted request is answered, later ones refused, exit 0", async () => {
  const dir = tempDir();
  // About 50-100 ms per run, one request per run: 24 requests keep the worker busy well past the signal.
  const server = await spawnServe([
    writeModelFolder(dir, "slow", slowModelSpec(8, 4096)),
    "--max-batch-size",
    "1",
    // On a loaded machine the 24 runs can take longer than the default deadlines this test is not about.
    "--shutdown-timeout-ms",
    "120000",
    "--timeout-ms",
    "120000",
  ]);
  const body = { x: [new Array(256).fill(1)] };
  const accepted = Array.from({ length: 24 }, () => call(`${server.url}predict`, { body }));
  // Wait until the server has admitted all 24 (answered, queued or running) before the signal. On a busy
  // machine the first answers may leave before the last requests arrive, so answered ones count too.
  const figure = (metrics: string, name: string) =>
    Number(new RegExp(`${name}\\{[^}]*\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
  let held = 0;
  let admitted = 0;
  for (let i = 0; i < 500 && admitted < 24; i++) {
    const metrics = (await call(`${server.url}metrics`)).body as string;
    held = figure(metrics, "gpux_inference_in_flight_requests");
    admitted = held + figure(metrics, "gpux_inference_request_success_total");
    if (admitted < 24) await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.equal(admitted, 24, "all 24 requests were accepted before the signal");
  assert.ok(held >= 2, `only ${held} requests were still in flight at the signal: nothing to finish`);
  server.child.kill("SIGTERM");
  // The late request goes out once the server has taken the signal (it says so on stderr).
  for (let i = 0; i < 500 && !server.stderr().includes("SIGTERM"); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const late = await call(`${server.url}predict`, { body }).then(
    (answer) => answer.status,
    () => "refused",
  );
  const answers = await Promise.all(accepted);
  assert.deepEqual(
    answers.map((a) => a.status),
    new Array(24).fill(200),
    "every request accepted before SIGTERM got its answer",
  );
  assert.ok(late === 503 || late === "refused", `a request after SIGTERM got ${late}`);
  assert.equal(await server.exited, 0);
  assert.match(server.stderr(), /SIGTERM: finishing requests in flight/);
  assert.match(server.stderr(), /stopped/);
});
