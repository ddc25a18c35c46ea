import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  addOneSpec,
  call,
  slowModelSpec,
  slowRequest,
  startServer,
  writeModelFolder,
} from "../helpers/serving.js";
import { tempDir } from "../helpers/temp-dir.js";

const dir = tempDir();
const addOne = writeModelFolder(
  dir,
  "add-one",
  addOneSpec,
  "name: add-one\nversion: 3.1.0\nmodel:\n  source: model.onnx\n",
);

describe("gpux API over real HTTP on 127.0.0.1", async () => {
  const server = await startServer([addOne], { bodyLimit: 4096 });
  const url = server.url;

  test("binds 127.0.0.1 by default", () => {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.equal((server.app.server.address() as { address: string }).address, "127.0.0.1");
  });

  test("GET /health answers like the earlier tool", async () => {
    const answer = await call(`${url}health`);
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { status: "healthy", model: "add-one", models: ["add-one"] });
  });

  test("GET /info describes inputs, outputs and serving settings", async () => {
    const answer = await call(`${url}info`);
    assert.equal(answer.status, 200);
    const info = answer.body as {
      name: string;
      version: string;
      inputs: unknown[];
      serving: { max_batch_size: number };
    };
    assert.equal(info.name, "add-one");
    assert.equal(info.version, "3.1.0");
    assert.deepEqual(info.inputs, [{ name: "x", dtype: "float32", shape: ["batch", 4] }]);
    assert.equal(info.serving.max_batch_size, 8);
    assert.equal((await call(`${url}info/add-one`)).status, 200);
  });

  test("POST /predict with raw tensors answers output tensors", async () => {
    const answer = await call(`${url}predict`, { body: { x: [[1, 2, 3, 4.5]] } });
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { y: [[2, 3, 4, 5.5]] });
    assert.match(answer.headers.get("server-timing") ?? "", /compute;dur=/);
    assert.deepEqual((await call(`${url}predict/add-one`, { body: { x: [[0, 0, 0, 0]] } })).body, {
      y: [[1, 1, 1, 1]],
    });
  });

  test("400: bad input shape, bad value, unknown input, invalid JSON, non-object body", async () => {
    for (const body of [{ x: [[1, 2, 3]] }, { x: [["a", 2, 3, 4]] }, { z: 1 }]) {
      const answer = await call(`${url}predict`, { body });
      assert.equal(answer.status, 400, JSON.stringify(answer.body));
      assert.equal(typeof (answer.body as { error: string }).error, "string");
    }
    const broken = await call(`${url}predict`, { raw: '{"x": [[1, 2' });
    assert.equal(broken.status, 400);
    assert.doesNotMatch(JSON.stringify(broken.body), /at .*\.js:\d+/); // no stack trace
    assert.equal((await call(`${url}predict`, { raw: "[1, 2]" })).status, 400);
  });

  test("404: unknown model and unknown route, as JSON", async () => {
    const model = await call(`${url}predict/nope`, { body: { x: [[1, 2, 3, 4]] } });
    assert.equal(model.status, 404);
    assert.match((model.body as { error: string }).error, /Model 'nope' is not served/);
    const route = await call(`${url}../../etc/passwd`);
    assert.equal(route.status, 404);
    assert.match((route.body as { error: string }).error, /No route/);
  });

  test("413: body over the limit", async () => {
    const answer = await call(`${url}predict`, { body: { x: [new Array(5000).fill(1)] } });
    assert.equal(answer.status, 413);
    assert.equal(typeof (answer.body as { error: string }).error, "string");
  });

  test("415: a body that is not JSON", async () => {
    const answer = await call(`${url}predict`, {
      raw: "x=1",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    assert.equal(answer.status, 415);
  });

  test("GET /openapi.json lists every route", async () => {
    const doc = (await call(`${url}openapi.json`)).body as {
      openapi: string;
      paths: Record<string, unknown>;
    };
    assert.equal(doc.openapi, "3.1.0");
    for (const path of ["/health", "/info", "/predict", "/v2", "/v2/models/{model}/infer", "/metrics", "/"]) {
      assert.ok(doc.paths[path], `missing ${path}`);
    }
  });
});

describe("limits: 429 when the queue is full, 504 past the deadline", async () => {
  const slow = writeModelFolder(dir, "slow", slowModelSpec(32, 8192));
  const server = await startServer([slow], { maxConcurrency: 2, maxBatchSize: 1, timeoutMs: 5000 });

  test("429 for requests beyond max_concurrency, the admitted ones answered", async () => {
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => call(`${server.url}predict`, { body: slowRequest })),
    );
    // At most 2 are held at once and a run takes ~250 ms, so most of 8 simultaneous requests are refused;
    // the exact split depends on how fast the machine delivers them.
    const statuses = answers.map((a) => a.status);
    assert.ok(
      statuses.every((s) => s === 200 || s === 429),
      `statuses ${statuses}`,
    );
    assert.ok(statuses.filter((s) => s === 200).length >= 2, `statuses ${statuses}`);
    assert.ok(statuses.filter((s) => s === 429).length >= 1, `statuses ${statuses}`);
    const rejected = answers.find((a) => a.status === 429);
    assert.match(JSON.stringify(rejected?.body), /queue is full/);
  });

  test("504 when a request is not answered within timeout_ms", async () => {
    const hurried = await startServer([slow], { timeoutMs: 50, maxBatchSize: 1 });
    const answer = await call(`${hurried.url}predict`, { body: slowRequest });
    assert.equal(answer.status, 504);
    assert.match((answer.body as { error: string }).error, /within 50 ms/);
    // the server is still fine afterwards
    assert.equal((await call(`${hurried.url}health`)).status, 200);
  });
});

describe("503 when a model failed to load", async () => {
  const broken = join(dir, "broken");
  writeModelFolder(dir, "broken", addOneSpec);
  writeFileSync(join(broken, "model.onnx"), "not an onnx file");
  const server = await startServer([broken]);

  test("health, readiness and predict answer 503", async () => {
    assert.equal((await call(`${server.url}health`)).status, 503);
    assert.equal((await call(`${server.url}v2/health/ready`)).status, 503);
    assert.equal((await call(`${server.url}v2/health/live`)).status, 200);
    const answer = await call(`${server.url}predict`, { body: { x: [[1, 2, 3, 4]] } });
    assert.equal(answer.status, 503);
    assert.match((answer.body as { error: string }).error, /failed to load/);
    assert.equal(answer.headers.get("retry-after"), "1");
  });
});

describe("security: API key and CORS", async () => {
  const server = await startServer([addOne], { apiKey: "s3cret", cors: ["https://app.example"] });
  const url = server.url;

  test("401 without or with a wrong key; 200 with Bearer or X-API-Key; probes stay open", async () => {
    const body = { x: [[1, 2, 3, 4]] };
    assert.equal((await call(`${url}predict`, { body })).status, 401);
    assert.equal(
      (await call(`${url}predict`, { body, headers: { authorization: "Bearer wrong" } })).status,
      401,
    );
    assert.equal(
      (await call(`${url}predict`, { body, headers: { authorization: "Bearer s3cret" } })).status,
      200,
    );
    assert.equal((await call(`${url}predict`, { body, headers: { "x-api-key": "s3cret" } })).status, 200);
    assert.equal((await call(`${url}metrics`)).status, 401);
    assert.equal((await call(`${url}health`)).status, 200);
    assert.equal((await call(`${url}v2/health/ready`)).status, 200);
  });

  test("CORS: the allowed origin gets headers and preflight; others do not", async () => {
    const preflight = await fetch(`${url}predict`, {
      method: "OPTIONS",
      headers: { origin: "https://app.example", "access-control-request-method": "POST" },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get("access-control-allow-origin"), "https://app.example");
    const other = await call(`${url}health`, { headers: { origin: "https://evil.example" } });
    assert.equal(other.headers.get("access-control-allow-origin"), null);
  });
});
