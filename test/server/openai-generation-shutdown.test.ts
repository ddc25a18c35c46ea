/**
 * SIGTERM while a generation streams, against a real `gpux serve` process (the built CLI) on the tiny qwen3
 * fixture: the stream in flight is answered to its end, new requests get 503 in OpenAI's shape meanwhile,
 * and the server then exits 0.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import OpenAI, { APIError } from "openai";
import { missingPythonModules } from "../helpers/python.js";
import { spawnServe } from "../helpers/serve-process.js";
import { causalLmPythonModules, tinyCausalLmsDir } from "../helpers/tiny-causal-lms.js";

const missing = missingPythonModules([...causalLmPythonModules]);
if (missing && process.env.GPUX_REQUIRE_PYTHON_TESTS === "1") throw new Error(missing);

describe("SIGTERM with a generation stream in flight", { skip: missing }, () => {
  test("the stream finishes, new requests get 503, the server exits 0", async () => {
    const serve = await spawnServe([join(tinyCausalLmsDir(), "qwen3")]);
    const client = new OpenAI({ baseURL: `${serve.url}v1`, apiKey: "unused", maxRetries: 0 });
    const request = { model: "qwen3", prompt: "Once upon a time", temperature: 0, max_tokens: 48 };
    const solo = await client.completions.create(request);
    const stream = await client.completions.create({ ...request, stream: true });
    const chunks = stream[Symbol.asyncIterator]();
    const first = await chunks.next();
    assert.ok(!first.done);
    let text = first.value.choices[0]?.text ?? "";

    serve.child.kill("SIGTERM");
    const deadline = performance.now() + 10_000;
    while (!serve.stderr().includes("SIGTERM: finishing requests in flight")) {
      assert.ok(performance.now() < deadline, serve.stderr());
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    try {
      await client.completions.create({ ...request, max_tokens: 2 });
      assert.fail("a new request was answered while stopping");
    } catch (error) {
      assert.ok(error instanceof APIError, String(error));
      assert.equal(error.status, 503);
      assert.equal(error.type, "server_error");
    }

    let reason: string | null | undefined = null;
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
      text += next.value.choices[0]?.text ?? "";
      reason = next.value.choices[0]?.finish_reason ?? reason;
    }
    assert.equal(text, solo.choices[0]?.text, "the stream was answered to its end");
    assert.equal(reason, solo.choices[0]?.finish_reason);
    assert.equal(await serve.exited, 0, serve.stderr());
  });
});
