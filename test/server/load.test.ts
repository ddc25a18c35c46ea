import assert from "node:assert/strict";
import { test } from "node:test";
import autocannon, { type AutocannonRequest } from "autocannon";
import { spawnServe } from "../helpers/serve-process.js";
import { addOneSpec, call, writeModelFolder } from "../helpers/serving.js";
import { tempDir } from "../helpers/temp-dir.js";

const json = { "content-type": "application/json" };
const good = (i: number): AutocannonRequest => ({
  method: "POST",
  path: i % 2 ? "/predict" : "/v2/models/add-one/infer",
  headers: json,
  body: JSON.stringify(
    i % 2
      ? { x: [[i, 1, 2, 3]] }
      : { inputs: [{ name: "x", shape: [1, 4], datatype: "FP32", data: [i, 1, 2, 3] }] },
  ),
});
// Five kinds of malformed request, 5 in every 100: broken JSON, wrong shape, wrong datatype, unknown model, no body.
const malformed: AutocannonRequest[] = [
  { method: "POST", path: "/predict", headers: json, body: '{"x": [[1, 2' },
  { method: "POST", path: "/predict", headers: json, body: '{"x": [[1, 2, 3]]}' },
  {
    method: "POST",
    path: "/v2/models/add-one/infer",
    headers: json,
    body: '{"inputs": [{"name": "x", "shape": [1, 4], "datatype": "BYTES", "data": ["a", "b", "c", "d"]}]}',
  },
  {
    method: "POST",
    path: "/v2/models/nope/infer",
    headers: json,
    body: '{"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}]}',
  },
  { method: "POST", path: "/predict", headers: json, body: "" },
];

/** What a response says about the request it answers: a success, or which malformed kind it was refused as. */
function classify(status: number, body: string): string {
  if (status === 200) return body.includes('"y"') || body.includes('"outputs"') ? "ok" : "200-without-output";
  if (status >= 500) return `5xx ${status}`;
  if (status === 404 && body.includes("not served")) return "unknown-model";
  if (body.includes("JSON") || body.includes("Unexpected")) return "broken-or-empty-json";
  if (body.includes("shape")) return "wrong-shape";
  if (body.includes("datatype")) return "wrong-datatype";
  return `other ${status} ${body.slice(0, 80)}`;
}

test("10 000 requests, 5% malformed: zero 5xx, every malformed one a 4xx, the server still up", async () => {
  const dir = tempDir();
  const server = await spawnServe([writeModelFolder(dir, "add-one", addOneSpec)]);
  const seen = new Map<string, number>();
  const onResponse = (status: number, body: string) => {
    const kind = classify(status, body);
    seen.set(kind, (seen.get(kind) ?? 0) + 1);
  };
  const requests: AutocannonRequest[] = [];
  for (let i = 0; i < 100; i++) {
    const request = i % 20 === 19 ? (malformed[(i - 19) / 20] as AutocannonRequest) : good(i);
    requests.push({ ...request, onResponse });
  }
  // 10 connections × 1000 requests: each connection walks the 100-entry list 10 times, so exactly 5% are malformed.
  // `duration` only bounds the run; `amount` ends it.
  const result = await autocannon({
    url: server.url,
    connections: 10,
    amount: 10_000,
    duration: 300,
    timeout: 20,
    requests,
  });
  assert.equal(result.errors, 0, "no connection errors");
  assert.equal(result.timeouts, 0);
  assert.equal(result["5xx"], 0, "zero 5xx");
  assert.equal(result["2xx"] + result["4xx"], 10_000);
  assert.deepEqual(Object.fromEntries([...seen].sort()), {
    "broken-or-empty-json": 200,
    ok: 9_500,
    "unknown-model": 100,
    "wrong-datatype": 100,
    "wrong-shape": 100,
  });
  assert.equal(server.child.exitCode, null, "the server did not crash");
  assert.equal((await call(`${server.url}health`)).status, 200);
  const metrics = (await call(`${server.url}metrics`)).body as string;
  assert.match(metrics, /gpux_inference_request_success_total\{model="add-one",version="1.0.0"\} 9500/);
  server.child.kill("SIGTERM");
  assert.equal(await server.exited, 0);
});
