import assert from "node:assert/strict";
import { test } from "node:test";
import { RetryableAnswer, withRetries } from "../../src/net/retry.js";

// net/retry.ts holds the one retry loop that API calls (fetch-with-retries.ts) and downloads (download-blob.ts) share.

test("failures in a row up to `attempts`, then the last error; `last` is told on the final try", async () => {
  const seen: boolean[] = [];
  await assert.rejects(
    withRetries(
      async ({ last }) => {
        seen.push(last);
        throw new Error(`try ${seen.length}`);
      },
      { attempts: 3, backoffMs: 1 },
    ),
    /try 3/,
  );
  assert.deepEqual(seen, [false, false, true]);
});

test("an attempt that made progress starts the count again; a final error is thrown at once", async () => {
  let tries = 0;
  let bytes = 0;
  const result = await withRetries(
    async () => {
      tries++;
      if (tries < 6) {
        bytes++;
        throw new Error("cut");
      }
      return "done";
    },
    { attempts: 2, backoffMs: 1, progressed: () => bytes === tries },
  );
  assert.equal(result, "done");
  assert.equal(tries, 6, "five cut connections that each moved forward never used up two attempts");

  let finalTries = 0;
  await assert.rejects(
    withRetries(
      async () => {
        finalTries++;
        throw new TypeError("bad credentials");
      },
      { attempts: 5, backoffMs: 1, isFinal: (error) => error instanceof TypeError },
    ),
    /bad credentials/,
  );
  assert.equal(finalTries, 1);
});

test("a RetryableAnswer's Retry-After is waited for instead of the backoff", async () => {
  let tries = 0;
  const started = Date.now();
  await withRetries(
    async () => {
      if (++tries === 1) throw new RetryableAnswer(503, "1");
      return undefined;
    },
    { attempts: 2, backoffMs: 1, maxRetryAfterMs: 200 },
  );
  const waited = Date.now() - started;
  assert.ok(waited >= 190 && waited < 900, `waited ${waited} ms: Retry-After 1 s capped at 200 ms`);
});
