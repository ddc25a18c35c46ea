import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { cliPath, runCli } from "../helpers/cli.js";
import { startFakeHub } from "../helpers/fake-hub.js";
import { onnxRepo } from "../helpers/fake-hub-repos.js";
import { tempDir } from "../helpers/temp-dir.js";

const repo = onnxRepo("org/Slow", { width: 512 * 1024, pipelineTag: null, config: { model_type: "custom" } });
const size = (repo.files["onnx/model.onnx_data"] as Uint8Array).length;
const key = "org/Slow/onnx/model.onnx_data";
const hub = await startFakeHub({ repos: [repo] });
after(() => hub.close());

/** One chunk of slack (the fake hub writes 16 KiB at a time). */
const chunk = 16 * 1024;

const env = (home: string): NodeJS.ProcessEnv => ({
  HF_ENDPOINT: hub.url,
  HF_HUB_CACHE: join(home, "hub"),
  GPUX_HOME: join(home, "gpux"),
  GPUX_HUB_BACKOFF_MS: "10",
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("a killed gpux pull resumes: total bytes served < file size + one chunk; nothing half-done is registered", async () => {
  const home = tempDir();
  hub.resetStats();
  // The hub sends a third of the file, then goes quiet; once all of it is on disk the process is killed.
  hub.faults.stallAfter = { file: "onnx/model.onnx_data", bytes: Math.floor(size / 3) };
  const child = spawn(process.execPath, [cliPath, "pull", "org/Slow"], {
    env: { ...process.env, ...env(home), HF_HUB_DOWNLOAD_TIMEOUT: "600" },
    stdio: "ignore",
  });
  const blobs = join(home, "hub", "models--org--Slow", "blobs");
  const partialSize = () =>
    readdirSync(blobs, { withFileTypes: true })
      .filter((d) => d.name.endsWith(".incomplete"))
      .reduce((sum, d) => sum + (statSync(join(blobs, d.name), { throwIfNoEntry: false })?.size ?? 0), 0);
  // Small files' partials are renamed into place while this polls: one that vanishes counts as empty.
  const deadline = Date.now() + 60_000;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  try {
    while (Date.now() < deadline && (!existsSync(blobs) || partialSize() < Math.floor(size / 3)))
      await sleep(20);
  } finally {
    child.kill("SIGKILL");
    await exited;
  }
  const servedBeforeKill = hub.stats.bytesByFile.get(key) ?? 0;
  assert.equal(servedBeforeKill, Math.floor(size / 3));

  const partial = readdirSync(blobs).find((name) => name.endsWith(".incomplete"));
  assert.ok(partial, "the partial download is kept for resuming");
  assert.ok(statSync(join(blobs, partial)).size > 0);
  // Nothing unverified is registered: no store entry, no ref, the model does not resolve.
  assert.deepEqual(JSON.parse((await runCli(["ls", "--json"], { env: env(home) })).stdout).models, []);
  assert.ok(!existsSync(join(home, "hub", "models--org--Slow", "refs", "main")));

  const resumed = await runCli(["pull", "org/Slow"], { env: env(home) });
  assert.equal(resumed.code, 0, resumed.stderr);
  const served = hub.stats.bytesByFile.get(key) ?? 0;
  assert.ok(served < size + chunk, `served ${served} in total for a ${size}-byte file`);
  assert.equal(hub.stats.downloads.get(key), 2);
  const request = join(home, "request.json");
  writeFileSync(request, JSON.stringify({ x: [new Array(512 * 1024).fill(0)] }));
  const run = await runCli(["run", "org/Slow", "--file", request, "--json"], {
    env: env(home),
    cwd: home,
  });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(JSON.parse(run.stdout).result.y[0][1000], 1001);
});

test("two concurrent pulls of one model: one downloads, the other waits on the lock and reuses it", async () => {
  const home = tempDir();
  hub.resetStats();
  hub.faults.throttle = { bytesPerSecond: 4 * 1024 * 1024, chunkSize: 64 * 1024 };
  const [a, b] = await Promise.all([
    runCli(["pull", "org/Slow"], { env: env(home) }),
    runCli(["pull", "org/Slow"], { env: env(home) }),
  ]);
  hub.faults.throttle = undefined;
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  assert.equal(hub.stats.downloads.get(key), 1);
  assert.match(a.stdout + b.stdout, /already up to date/);
});

test("--force downloads and verifies again", async () => {
  const home = tempDir();
  assert.equal((await runCli(["pull", "org/Slow"], { env: env(home) })).code, 0);
  hub.resetStats();
  const forced = await runCli(["pull", "org/Slow", "--force"], { env: env(home) });
  assert.equal(forced.code, 0, forced.stderr);
  assert.equal(hub.stats.downloads.get(key), 1);
  assert.deepEqual(JSON.parse((await runCli(["ls", "--json"], { env: env(home) })).stdout).models.length, 1);
});
