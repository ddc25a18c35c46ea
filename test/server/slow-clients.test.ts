import assert from "node:assert/strict";
import { test } from "node:test";
import { runCli } from "../helpers/cli.js";
import { openConnection, requestText, statusOf, waitFor } from "../helpers/raw-http.js";
import { spawnServe } from "../helpers/serve-process.js";
import { addOneSpec, call, slowModelSpec, slowRequest, writeModelFolder } from "../helpers/serving.js";
import { tempDir } from "../helpers/temp-dir.js";

const sixteenMiB = 16 * 1024 * 1024;
const addOneRequest = JSON.stringify({ x: [[1, 2, 3, 4]] });

/** Wait until the server has admitted `count` inference requests (in flight or answered). */
async function admitted(url: string, count: number): Promise<void> {
  const figure = (metrics: string, name: string) =>
    Number(new RegExp(`${name}\\{[^}]*\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
  for (let i = 0; i < 1000; i++) {
    const metrics = (await call(`${url}metrics`)).body as string;
    const seen =
      figure(metrics, "gpux_inference_in_flight_requests") +
      figure(metrics, "gpux_inference_request_success_total");
    if (seen >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`the server did not admit ${count} requests`);
}

test("a stalled upload does not hold SIGTERM: the server exits at once, 0", async () => {
  const server = await spawnServe([writeModelFolder(tempDir(), "add-one", addOneSpec)]);
  const upload = await openConnection(server.url);
  upload.socket.write(requestText("POST", "/predict", { contentLength: sixteenMiB }));
  upload.socket.write("x".repeat(1024));
  await new Promise((resolve) => setTimeout(resolve, 200));
  const start = performance.now();
  server.child.kill("SIGTERM");
  assert.equal(await server.exited, 0);
  const seconds = (performance.now() - start) / 1000;
  // Before: the drain waited timeout_ms + 5 s (35 s) for the upload that would never finish.
  assert.ok(seconds < 5, `exit took ${seconds.toFixed(1)} s after SIGTERM`);
  assert.equal(await upload.closed, "end");
});

test("a stalled upload is dropped after --read-timeout-ms with a JSON 408", async () => {
  const server = await spawnServe([
    writeModelFolder(tempDir(), "add-one", addOneSpec),
    "--read-timeout-ms",
    "1000",
  ]);
  const upload = await openConnection(server.url);
  const start = performance.now();
  upload.socket.write(requestText("POST", "/predict", { contentLength: sixteenMiB }));
  upload.socket.write("x".repeat(1024));
  await Promise.race([
    upload.closed,
    new Promise((_resolve, reject) => setTimeout(() => reject(new Error("never timed out")), 8000)),
  ]);
  const seconds = (performance.now() - start) / 1000;
  assert.ok(seconds < 4, `dropped after ${seconds.toFixed(1)} s`);
  assert.equal(statusOf(upload.received()), 408, upload.received());
  const body = JSON.parse(upload.received().split("\r\n\r\n")[1] ?? "");
  assert.match(body.error, /did not arrive in time/);
  assert.match(body.hint, /--read-timeout-ms/);
  // The server still answers others.
  assert.equal((await call(`${server.url}health`)).status, 200);
});

test("during a drain an idle keep-alive connection gets the documented 503, the busy one its answer", async () => {
  const server = await spawnServe([
    writeModelFolder(tempDir(), "slow", slowModelSpec(8, 4096)),
    "--max-batch-size",
    "1",
  ]);
  const idle = await openConnection(server.url);
  idle.socket.write(requestText("GET", "/health"));
  await waitFor(() => statusOf(idle.received()) === 200, 10_000, "the first /health");
  const busy = Array.from({ length: 3 }, () => call(`${server.url}predict`, { body: slowRequest }));
  await admitted(server.url, 3);
  server.child.kill("SIGTERM");
  await waitFor(() => server.stderr().includes("SIGTERM"), 10_000, "the signal");
  const before = idle.received().length;
  idle.socket.write(requestText("POST", "/predict", { body: JSON.stringify(slowRequest) }));
  await waitFor(() => idle.received().length > before, 10_000, "an answer on the idle connection");
  const answer = idle.received().slice(before);
  assert.equal(statusOf(answer), 503, answer);
  assert.match(answer, /connection: close/i);
  assert.match(answer, /"error":"The server is shutting down\."/);
  for (const reply of await Promise.all(busy)) assert.equal(reply.status, 200);
  assert.equal(await server.exited, 0);
});

test("SIGTERM resets no connection still waiting to be accepted", async () => {
  const server = await spawnServe([writeModelFolder(tempDir(), "add-one", addOneSpec)]);
  // A stopped process accepts nothing: the kernel completes the handshakes and queues the connections.
  server.child.kill("SIGSTOP");
  const waiting = await Promise.all(Array.from({ length: 40 }, () => openConnection(server.url)));
  for (const connection of waiting) {
    connection.socket.write(requestText("POST", "/predict", { body: addOneRequest }));
  }
  server.child.kill("SIGTERM");
  server.child.kill("SIGCONT");
  const outcomes = await Promise.all(
    waiting.map((c) => c.closed.then((how) => `${how} ${statusOf(c.received())}`)),
  );
  // Each one is answered (200 if it was read before the signal was handled, else 503), none reset.
  const unanswered = outcomes.filter((o) => !/^end (200|503)$/.test(o));
  assert.deepEqual(unanswered, [], `of 40 queued connections: ${outcomes.join(", ")}`);
  assert.equal(await server.exited, 0);
});

test("connections beyond --max-connections are closed; the server keeps serving", async () => {
  const server = await spawnServe([
    writeModelFolder(tempDir(), "add-one", addOneSpec),
    "--max-connections",
    "3",
  ]);
  const held = await Promise.all(Array.from({ length: 3 }, () => openConnection(server.url)));
  for (const connection of held) connection.socket.write(requestText("GET", "/health"));
  for (const connection of held) {
    await waitFor(() => statusOf(connection.received()) === 200, 10_000, "/health on a held connection");
  }
  const extra = await openConnection(server.url);
  extra.socket.write(requestText("GET", "/health"));
  const how = await Promise.race([
    extra.closed,
    new Promise<string>((resolve) => setTimeout(() => resolve("still open"), 5000)),
  ]);
  assert.notEqual(how, "still open");
  assert.equal(statusOf(extra.received()), undefined, "the fourth connection was served");
  held[0]?.socket.destroy();
  await held[0]?.closed;
  await new Promise((resolve) => setTimeout(resolve, 100));
  const again = await openConnection(server.url);
  again.socket.write(requestText("GET", "/health"));
  await waitFor(() => statusOf(again.received()) === 200, 10_000, "/health once a slot is free");
});

test("the shutdown deadline (default 25 s, under Kubernetes' 30 s) cuts requests still running", async () => {
  const help = await runCli(["serve", "--help"]);
  assert.match(help.stdout, /--shutdown-timeout-ms <ms>[^-]*default 25000\)/);
  // 16 queued runs of ~0.2-1.5 s each (more on a loaded machine): without a deadline the drain takes them
  // all, ≥ 3 s even on a fast host (with 8 products each, 16 runs once all fitted in the 1 s deadline).
  const server = await spawnServe([
    writeModelFolder(tempDir(), "slow", slowModelSpec(24, 4096)),
    "--max-batch-size",
    "1",
    "--shutdown-timeout-ms",
    "1000",
  ]);
  const running = Array.from({ length: 16 }, () =>
    call(`${server.url}predict`, { body: slowRequest }).then(
      (answer) => answer.status,
      () => "cut",
    ),
  );
  await admitted(server.url, 16);
  const start = performance.now();
  server.child.kill("SIGTERM");
  await server.exited;
  const seconds = (performance.now() - start) / 1000;
  // The deadline, then the one batch still running in its worker (a thread inside ONNX Runtime is never killed).
  assert.ok(seconds < 4, `exit took ${seconds.toFixed(1)} s with a 1 s deadline`);
  assert.ok((await Promise.all(running)).includes("cut"), "some requests were still running at the deadline");
  assert.match(server.stderr(), /still open at the shutdown deadline/);
});
