import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { openConnection, requestText, statusOf, waitFor } from "../helpers/raw-http.js";
import { addOneSpec, call, startServer, writeModelFolder } from "../helpers/serving.js";
import { writeSumIdsModel } from "../helpers/sum-ids-model.js";
import { tempDir } from "../helpers/temp-dir.js";

const dir = tempDir();
const addOne = writeModelFolder(dir, "add-one", addOneSpec);
const strings = writeModelFolder(dir, "strings", {
  inputs: [{ name: "s", dtype: "string", shape: ["n"] }],
  outputs: [{ name: "t", dtype: "string", shape: ["n"] }],
  nodes: [{ op: "Identity", inputs: ["s"], outputs: ["t"] }],
});
// y = zeros expanded to the requested shape: the answer's size is the client's to choose.
const expand = writeModelFolder(dir, "expand", {
  inputs: [{ name: "shape", dtype: "int64", shape: [2] }],
  outputs: [{ name: "y", dtype: "float32", shape: ["a", "b"] }],
  initializers: [{ name: "zero", dtype: "float32", dims: [1], values: [0] }],
  nodes: [{ op: "Expand", inputs: ["zero", "shape"], outputs: ["y"] }],
});
const slashed = writeModelFolder(
  dir,
  "slashed",
  addOneSpec,
  "name: org/name\nmodel:\n  source: model.onnx\n",
);
const server = await startServer([addOne, strings, expand, slashed]);
const oipInfer = (model: string, inputs: unknown[]) =>
  call(`${server.url}v2/models/${model}/infer`, { body: { inputs } });

function assertRefused(answer: { status: number; body: unknown }, status: number, pattern: RegExp): void {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  const body = answer.body as { error: string; hint?: string };
  assert.match(body.error, pattern);
  assert.equal(typeof body.hint, "string", "every refusal carries a hint");
}

describe("strings round-trip exactly or are refused (BYTES)", () => {
  test("unicode, emoji and escapes come back unchanged", async () => {
    const data = ["héllo", "😀 pair", 'tab\tquote"back\\slash', "\u00a0"];
    const answer = await oipInfer("strings", [{ name: "s", shape: [4], datatype: "BYTES", data }]);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual((answer.body as { outputs: { data: unknown }[] }).outputs[0]?.data, data);
  });
  test('"a\\u0000b" is refused with 400, not answered "a"', async () => {
    const answer = await oipInfer("strings", [
      { name: "s", shape: [1], datatype: "BYTES", data: ["a\u0000b"] },
    ]);
    assertRefused(answer, 400, /U\+0000/);
  });
  test("a lone surrogate is refused with 400, not turned into U+FFFD", async () => {
    const raw = '{"inputs": [{"name": "s", "shape": [1], "datatype": "BYTES", "data": ["x\\ud800y"]}]}';
    assertRefused(await call(`${server.url}v2/models/strings/infer`, { raw }), 400, /lone UTF-16 surrogate/);
  });
  test("a body that is not UTF-8 is refused with 400", async () => {
    const body = Buffer.concat([Buffer.from('{"s": ["a'), Buffer.from([0xff, 0xfe]), Buffer.from('"]}')]);
    const response = await fetch(`${server.url}predict/strings`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    assertRefused({ status: response.status, body: await response.json() }, 400, /not valid UTF-8/);
  });
});

describe("valid JSON that used to answer 500 is a 400", () => {
  let deep = "1";
  for (let i = 0; i < 20_000; i++) deep = `[${deep}]`;
  test("/predict data nested 20 000 levels", async () => {
    const answer = await call(`${server.url}predict/add-one`, { raw: `{"x": ${deep}}` });
    assertRefused(answer, 400, /nested deeper than the model's rank 2/);
  });
  test("OIP data nested 20 000 levels", async () => {
    const raw = `{"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32", "data": ${deep}}]}`;
    const answer = await call(`${server.url}v2/models/add-one/infer`, { raw });
    assertRefused(answer, 400, /needs 4 values, received 1|nested deeper than the shape/);
  });
  test("a ragged array whose first row implies [70000, 70000] is refused before allocating", async () => {
    const rows = `[${new Array(70_000).fill(0).join(",")}]${",[]".repeat(69_999)}`;
    const start = performance.now();
    const answer = await call(`${server.url}predict/add-one`, { raw: `{"x": [${rows}]}` });
    assertRefused(answer, 400, /ragged array|shape/);
    assert.ok(performance.now() - start < 5000);
  });
  test("a zero-element input is refused where the graph does not declare an empty dimension", async () => {
    assertRefused(
      await call(`${server.url}predict/add-one`, { body: { x: [] } }),
      400,
      /dimension 0 .* is 0/,
    );
    const answer = await oipInfer("add-one", [{ name: "x", shape: [0, 4], datatype: "FP32", data: [] }]);
    assertRefused(answer, 400, /is 0; the model does not declare an empty dimension/);
  });
});

describe("answer size", () => {
  test("an Expand to 2e7 values is refused with a hint, quickly", async () => {
    const start = performance.now();
    const answer = await oipInfer("expand", [
      { name: "shape", shape: [2], datatype: "INT64", data: [2000, 10000] },
    ]);
    assertRefused(answer, 400, /would hold 20000000 values; this server answers at most 4194304/);
    assert.match((answer.body as { hint: string }).hint, /--max-answer-elements/);
    assert.ok(performance.now() - start < 5000, "refused before encoding 40 MB of JSON");
    const raw = await call(`${server.url}predict/expand`, { body: { shape: [2000, 10000] } });
    assertRefused(raw, 400, /would hold 20000000 values/);
  });
  test("answers under the limit are unchanged", async () => {
    const answer = await call(`${server.url}predict/expand`, { body: { shape: [2, 3] } });
    assert.equal(answer.status, 200);
    assert.deepEqual((answer.body as { y: unknown }).y, [
      [0, 0, 0],
      [0, 0, 0],
    ]);
  });
});

describe("URLs and error bodies", () => {
  test("the OIP URL serve prints for an org/name model answers (not only %2F)", async () => {
    const inputs = [{ name: "x", shape: [1, 4], datatype: "FP32", data: [1, 2, 3, 4] }];
    for (const name of ["org/name", "org%2Fname"]) {
      const answer = await oipInfer(name, inputs);
      assert.equal(answer.status, 200, `${name}: ${JSON.stringify(answer.body)}`);
      assert.deepEqual((answer.body as { outputs: { data: unknown }[] }).outputs[0]?.data, [2, 3, 4, 5]);
    }
    assert.equal((await call(`${server.url}v2/models/org/name`)).status, 200);
    assert.equal((await call(`${server.url}v2/models/org/name/ready`)).status, 200);
    assert.equal(
      (await call(`${server.url}v2/models/org/name/versions/1.0.0/infer`, { body: { inputs } })).status,
      200,
    );
  });
  test("a URL that does not decode, a path segment too long: {error, hint}", async () => {
    assertRefused(
      await call(`${server.url}predict/%zz`, { body: { x: [[1, 2, 3, 4]] } }),
      400,
      /does not decode/,
    );
    assertRefused(await call(`${server.url}info/${"a".repeat(200)}`), 414, /too long/);
  });
  test("headers too large: 431 with {error, hint}", async () => {
    const connection = await openConnection(server.url);
    connection.socket.write(requestText("GET", "/health", { headers: { "x-big": "a".repeat(20_000) } }));
    await connection.closed;
    assert.equal(statusOf(connection.received()), 431);
    const body = JSON.parse(connection.received().split("\r\n\r\n")[1] ?? "");
    assert.match(body.error, /too large/);
    assert.equal(typeof body.hint, "string");
  });
  test('a "__proto__" key is refused for what it is, not as "not valid JSON"', async () => {
    const answer = await call(`${server.url}predict/add-one`, {
      raw: '{"x": [[1,2,3,4]], "__proto__": {"a": 1}}',
    });
    assertRefused(answer, 400, /"__proto__".*prototype poisoning/);
    assert.doesNotMatch((answer.body as { error: string }).error, /not valid JSON/);
  });
});

test("tokenizing a 2 MB request of long texts keeps /health under 1 s", async () => {
  const textDir = join(tempDir(), "sum-ids");
  mkdirSync(textDir);
  const textServer = await startServer([writeSumIdsModel(textDir, "  max_length: 64\n")]);
  const words = "the quick brown fox jumps over a lazy dog while gpux tokenizes ";
  const text = words.repeat(Math.ceil(10_000 / words.length)).slice(0, 10_000);
  const body = { text: Array.from({ length: 200 }, () => text) };
  // The first request loads the tokenizer (seconds, on the event loop): not what is measured here.
  assert.equal((await call(`${textServer.url}predict`, { body: { text: "warm up" } })).status, 200);
  let done = false;
  const start = performance.now();
  const big = call(`${textServer.url}predict`, { body }).finally(() => {
    done = true;
  });
  await waitFor(() => performance.now() - start > 50, 1000, "the request to go out");
  const times: number[] = [];
  while (!done) times.push((await call(`${textServer.url}health`)).ms);
  const answer = await big;
  const worst = Math.max(...times);
  // Before: one piece of ~200 tokenizations, /health waited for all of it (seconds).
  assert.ok(worst < 1000, `/health took up to ${worst.toFixed(0)} ms (${times.length} calls)`);
  assert.ok(times.length >= 3, `only ${times.length} /health calls during the request`);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  console.log(
    `# tokenizing 200 × 10 000 chars took ${answer.ms.toFixed(0)} ms; /health max ${worst.toFixed(0)} ms over ${times.length} calls`,
  );
});

test("the request timeout covers tokenization: 504 on time, not after the whole pre-processing", async () => {
  const textDir = join(tempDir(), "sum-ids-deadline");
  mkdirSync(textDir);
  const textServer = await startServer([writeSumIdsModel(textDir, "  max_length: 64\n")], {
    timeoutMs: 500,
  });
  assert.equal((await call(`${textServer.url}predict`, { body: { text: "warm up" } })).status, 200);
  const text = "tokenize me please ".repeat(520).slice(0, 10_000);
  const answer = await call(`${textServer.url}predict`, {
    body: { text: Array.from({ length: 60 }, () => text) },
  });
  assertRefused(answer, 504, /did not answer within 500 ms/);
  // Before: the deadline started only in the queue, after tokenizing (seconds here).
  assert.ok(answer.ms < 2000, `answered after ${answer.ms.toFixed(0)} ms`);
});
