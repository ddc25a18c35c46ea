import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { downloadBlob } from "../../src/net/download-blob.js";
import { retryAfterMs, retryDelayMs } from "../../src/net/retry.js";
import { createHubFetch } from "../../src/registry/huggingface/hub-fetch.js";
import { runCli } from "../helpers/cli.js";
import { startFakeHub } from "../helpers/fake-hub.js";
import { onnxRepo } from "../helpers/fake-hub-repos.js";
import { tempDir } from "../helpers/temp-dir.js";

const repo = onnxRepo("org/Limited", { pipelineTag: null });
const hub = await startFakeHub({ repos: [repo] });
after(() => hub.close());

const env = (home: string): NodeJS.ProcessEnv => ({
  HF_ENDPOINT: hub.url,
  HF_HUB_CACHE: join(home, "hub"),
  HF_TOKEN: "",
  GPUX_HOME: join(home, "gpux"),
  GPUX_HUB_BACKOFF_MS: "5",
});

const registered = (home: string) =>
  existsSync(join(home, "gpux", "models")) ? readdirSync(join(home, "gpux", "models")) : [];

test("a few 429s on the API and on a file download are retried, and the pull succeeds", async () => {
  for (const pathIncludes of ["/api/models/", "/onnx/model.onnx_data"]) {
    const home = tempDir();
    hub.resetStats();
    hub.faults.fail = { status: 429, times: 2, pathIncludes };
    const result = await runCli(["pull", "org/Limited"], { env: env(home) });
    assert.equal(hub.faults.fail.times, 0, `${pathIncludes}: the 429s were not all served`);
    hub.faults.fail = undefined;
    assert.equal(result.code, 0, `${pathIncludes}: ${result.stderr}`);
    assert.equal(registered(home).length, 1);
    const tries = hub.stats.requests.filter((r) => r.includes(pathIncludes)).length;
    assert.ok(tries >= 3, `${pathIncludes}: ${tries} requests, expected the 2 refused and a good one`);
  }
});

test("a 429 that outlasts the retries: a rate-limit error naming the Hub, exit 3, nothing registered", async () => {
  const cases: Array<[string, RegExp]> = [
    ["/api/models/", /rate-limited the requests for 'org\/Limited' \(HTTP 429\)/],
    ["/onnx/model.onnx_data", /rate-limited the requests for 'onnx\/model\.onnx_data' of 'org\/Limited'/],
  ];
  for (const [pathIncludes, message] of cases) {
    const home = tempDir();
    hub.faults.fail = { status: 429, times: 1000, pathIncludes };
    const result = await runCli(["pull", "org/Limited"], { env: env(home) });
    hub.faults.fail = undefined;
    assert.equal(result.code, 3, `${pathIncludes}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.ok(result.stderr.includes(`error: The Hub at ${hub.url} rate-limited`), result.stderr);
    assert.match(result.stderr, /\nhint: Try again later/);
    assert.doesNotMatch(result.stderr, /unexpected failure|\n\s+at /);
    assert.deepEqual(registered(home), []);
  }
});

test("Retry-After on a 429 or 503 is waited for, not the (much shorter) backoff", async () => {
  const hubFetch = createHubFetch({ endpoint: hub.url, attempts: 2, backoffMs: 1 });
  const started = Date.now();
  hub.faults.fail = { status: 429, times: 1, pathIncludes: "/api/models/", retryAfter: "1" };
  const response = await hubFetch(`${hub.url}/api/models/org/Limited`);
  assert.equal(response.status, 200);
  await response.body?.cancel();
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 950, `API: retried after ${elapsed} ms, Retry-After said 1 s`);

  const file = "onnx/model.onnx_data";
  const content = repo.files[file] as Uint8Array;
  const dest = join(tempDir(), "blob");
  const downloadStarted = Date.now();
  hub.faults.fail = { status: 503, times: 1, pathIncludes: file, retryAfter: "1" };
  await downloadBlob({
    url: `${hub.url}/org/Limited/resolve/main/${file}`,
    dest,
    expected: { size: content.length, sha256: createHash("sha256").update(content).digest("hex") },
    label: file,
    attempts: 2,
    backoffMs: 1,
    httpError: (status) => new Error(`HTTP ${status}`),
  });
  const downloadElapsed = Date.now() - downloadStarted;
  assert.ok(downloadElapsed >= 950, `download: retried after ${downloadElapsed} ms, Retry-After said 1 s`);
  assert.deepEqual(readFileSync(dest), Buffer.from(content));
});

test("a Retry-After beyond the cap is cut to the cap", { timeout: 20_000 }, async () => {
  const hubFetch = createHubFetch({ endpoint: hub.url, attempts: 2, backoffMs: 1, maxRetryAfterMs: 50 });
  const started = Date.now();
  hub.faults.fail = { status: 429, times: 1, pathIncludes: "/api/models/", retryAfter: "3600" };
  const response = await hubFetch(`${hub.url}/api/models/org/Limited`);
  await response.body?.cancel();
  assert.equal(response.status, 200);
  assert.ok(Date.now() - started < 5000, "waited the hour the server asked for");
});

test("Retry-After values: seconds or an HTTP date, capped at 60 s; anything else falls back to backoff", () => {
  const now = Date.parse("2025-01-01T00:00:00Z");
  assert.equal(retryAfterMs("2", undefined, now), 2000);
  assert.equal(retryAfterMs(" 0 ", undefined, now), 0);
  assert.equal(retryAfterMs("3600", undefined, now), 60_000);
  assert.equal(retryAfterMs("Wed, 01 Jan 2025 00:00:05 GMT", undefined, now), 5000);
  assert.equal(retryAfterMs("Tue, 31 Dec 2024 23:00:00 GMT", undefined, now), 0);
  for (const junk of [undefined, null, "", "soon", "-5", "1.5e3"])
    assert.equal(retryAfterMs(junk, undefined, now), undefined, String(junk));
  assert.equal(retryDelayMs(3, { backoffMs: 100 }), 400);
  assert.equal(retryDelayMs(3, { backoffMs: 100, retryAfter: "1" }), 1000);
  assert.equal(retryDelayMs(1, { backoffMs: 100, retryAfter: "120", maxRetryAfterMs: 30_000 }), 30_000);
});

test("GPUX_HUB_RETRIES or GPUX_HUB_BACKOFF_MS that is not a whole number: exit 1 naming it", async () => {
  const cases: Array<[NodeJS.ProcessEnv, RegExp]> = [
    [{ GPUX_HUB_RETRIES: "0" }, /GPUX_HUB_RETRIES must be a whole number ≥ 1, got '0'/],
    [{ GPUX_HUB_RETRIES: "many" }, /GPUX_HUB_RETRIES must be a whole number ≥ 1, got 'many'/],
    [{ GPUX_HUB_BACKOFF_MS: "-1" }, /GPUX_HUB_BACKOFF_MS must be a whole number ≥ 0, got '-1'/],
  ];
  for (const [extra, message] of cases) {
    const home = tempDir();
    const result = await runCli(["pull", "org/Limited"], { env: { ...env(home), ...extra } });
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stderr, message);
    assert.deepEqual(registered(home), []);
  }
});
