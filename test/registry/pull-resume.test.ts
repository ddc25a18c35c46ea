import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
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

/** Every file under the cache's blobs folder, with its bytes. */
function blobBytes(home: string): Map<string, Buffer> {
  const dir = join(home, "hub", "models--org--Slow", "blobs");
  return new Map(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name))]));
}

test("offline --force is refused and leaves every cached byte; ls tells a broken entry", async () => {
  const home = tempDir();
  assert.equal((await runCli(["pull", "org/Slow"], { env: env(home) })).code, 0);
  const before = blobBytes(home);
  const forced = await runCli(["pull", "org/Slow", "--force"], {
    env: { ...env(home), HF_HUB_OFFLINE: "1" },
  });
  assert.equal(forced.code, 1, forced.stderr);
  assert.match(forced.stderr, /--force .*offline/);
  assert.match(forced.stderr, /hint: .*Drop --force/);
  assert.deepEqual(blobBytes(home), before);
  // offline, without --force, the cached model verifies in place and is reused
  const offline = await runCli(["pull", "org/Slow"], { env: { ...env(home), HF_HUB_OFFLINE: "1" } });
  assert.equal(offline.code, 0, offline.stderr);
  assert.deepEqual(blobBytes(home), before);

  // a blob deleted behind gpux's back: ls says the entry is broken, an offline pull names the missing file
  const weights = [...before.entries()].find(([, bytes]) => bytes.length === size)?.[0] as string;
  rmSync(join(home, "hub", "models--org--Slow", "blobs", weights));
  const ls = await runCli(["ls", "--json"], { env: env(home) });
  assert.equal(JSON.parse(ls.stdout).models[0].status, "broken");
  assert.match((await runCli(["ls"], { env: env(home) })).stdout, /broken/);
  const missing = await runCli(["pull", "org/Slow"], { env: { ...env(home), HF_HUB_OFFLINE: "1" } });
  assert.equal(missing.code, 2, missing.stderr);
  assert.match(missing.stderr, /onnx\/model\.onnx_data' of 'org\/Slow' is not in the cache/);
  // online, the pull repairs it
  assert.equal((await runCli(["pull", "org/Slow"], { env: env(home) })).code, 0);
  assert.equal(
    JSON.parse((await runCli(["ls", "--json"], { env: env(home) })).stdout).models[0].status,
    "ok",
  );
});

test("--force online keeps the cached blob until its new copy is verified", async () => {
  const home = tempDir();
  assert.equal((await runCli(["pull", "org/Slow"], { env: env(home) })).code, 0);
  const before = blobBytes(home);
  // the Hub now sends corrupt weights, twice: the forced pull fails and the cache is as it was
  hub.faults.corrupt = { file: "onnx/model.onnx_data", offset: 100, times: 2 };
  try {
    const forced = await runCli(["pull", "org/Slow", "--force"], { env: env(home) });
    assert.equal(forced.code, 3, forced.stderr);
    assert.match(forced.stderr, /corrupt after two downloads/);
  } finally {
    hub.faults.corrupt = undefined;
  }
  assert.deepEqual(blobBytes(home), before);
  assert.equal(
    JSON.parse((await runCli(["ls", "--json"], { env: env(home) })).stdout).models[0].status,
    "ok",
  );
});
