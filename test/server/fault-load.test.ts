import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import autocannon, { type AutocannonRequest } from "autocannon";
import { gatherOutOfRange } from "../helpers/fault-models.js";
import { spawnServe } from "../helpers/serve-process.js";
import { addOneSpec, writeModelFolder } from "../helpers/serving.js";
import { tempDir } from "../helpers/temp-dir.js";

const json = { "content-type": "application/json" };
const table = [
  [1, 2],
  [3, 4],
  [5, 6],
  [7, 8],
];

interface Entry {
  request: AutocannonRequest;
  /** For a good request, the exact body it must be answered with; undefined for a hostile one. */
  expected?: string;
  kind: string;
}

function good(i: number): Entry {
  if (i % 3 === 0) {
    const [a, b] = [i % 4, (i + 1) % 4];
    return {
      kind: "good gather",
      request: {
        method: "POST",
        path: "/predict/gather",
        headers: json,
        body: JSON.stringify({ ids: [[a, b]] }),
      },
      expected: JSON.stringify({ y: [[table[a], table[b]]] }),
    };
  }
  return {
    kind: "good add-one",
    request: {
      method: "POST",
      path: "/predict/add-one",
      headers: json,
      body: JSON.stringify({ x: [[i, 1, 2, 3]] }),
    },
    expected: JSON.stringify({ y: [[i + 1, 2, 3, 4]] }),
  };
}

const deep = `{"x": ${"[".repeat(10_000)}1${"]".repeat(10_000)}}`;
// The hostile shapes of issue 16, one of each in every 100 requests (5 %).
const hostile: Entry[] = [
  {
    kind: "out-of-range id",
    request: {
      method: "POST",
      path: "/predict/gather",
      headers: json,
      body: JSON.stringify({ ids: [[1, 9]] }),
    },
  },
  {
    kind: "bad shape",
    request: { method: "POST", path: "/predict/add-one", headers: json, body: '{"x": [[1, 2, 3]]}' },
  },
  { kind: "deep nesting", request: { method: "POST", path: "/predict/add-one", headers: json, body: deep } },
  {
    kind: "huge dims",
    request: {
      method: "POST",
      path: "/v2/models/add-one/infer",
      headers: json,
      body: '{"inputs": [{"name": "x", "shape": [70000, 70000], "datatype": "FP32", "data": [1]}]}',
    },
  },
  {
    kind: "non-JSON",
    request: { method: "POST", path: "/predict/add-one", headers: json, body: "{not json" },
  },
];

/** Times GET <url> every 20 ms until stdin closes, then prints [[status, ms], …]. */
const probeScript = `
const times = [];
let running = true;
process.stdin.on("end", () => { running = false; }).resume();
while (running) {
  const start = performance.now();
  const answer = await fetch(process.argv[1]);
  await answer.arrayBuffer();
  times.push([answer.status, performance.now() - start]);
  await new Promise((resolve) => setTimeout(resolve, 20));
}
console.log(JSON.stringify(times));
`;

const rssKb = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);

test("10 000 requests with batching on, 5 % hostile: good ones all right, /health fast, RSS flat", async () => {
  const dir = tempDir();
  const yaml = (name: string) => `name: ${name}\nmodel:\n  source: model.onnx\n`;
  const server = await spawnServe([
    writeModelFolder(dir, "add-one", addOneSpec, yaml("add-one")),
    writeModelFolder(dir, "gather", gatherOutOfRange.spec, yaml("gather")),
    "--max-queue-delay-ms",
    "2",
    "--max-batch-size",
    "16",
  ]);
  const pid = server.child.pid as number;
  const outcomes = new Map<string, number>();
  const count = (key: string) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
  const requests = Array.from({ length: 100 }, (_, i) => {
    const entry = i % 20 === 19 ? (hostile[(i - 19) / 20] as Entry) : good(i);
    const onResponse = (status: number, body: string) => {
      if (entry.expected === undefined)
        count(`${entry.kind} ${status >= 500 ? "5xx" : status < 300 ? "2xx" : "4xx"}`);
      else
        count(
          status === 200 && body === entry.expected
            ? "good ok"
            : `good WRONG ${status} ${body.slice(0, 120)}`,
        );
    };
    return { ...entry.request, onResponse };
  });
  // 10 connections × 1 000 requests: each walks the 100-entry list 10 times, so exactly 5 % are hostile.
  const load = (amount: number) =>
    autocannon({ url: server.url, connections: 10, amount, duration: 300, timeout: 20, requests });

  await load(1_000); // warm up: JIT, allocator pools, keep-alive sockets
  outcomes.clear();
  const rssStart = rssKb(pid);
  // /health is timed from a process of its own: autocannon keeps this one's event loop busy.
  const probe = spawn(process.execPath, ["--input-type=module", "-e", probeScript, `${server.url}health`], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  let probeOut = "";
  probe.stdout.on("data", (chunk) => {
    probeOut += chunk;
  });
  const probed = new Promise((resolve) => probe.on("exit", resolve));
  const result = await load(10_000);
  probe.stdin.end();
  await probed;
  const healthMs = (JSON.parse(probeOut) as Array<[number, number]>).map(([status, ms]) => {
    assert.equal(status, 200, "/health stayed 200 throughout");
    return ms;
  });
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const rssEnd = rssKb(pid);

  assert.equal(result.errors, 0, "no connection errors");
  assert.equal(result.timeouts, 0);
  assert.equal(outcomes.get("good ok"), 9_500, JSON.stringify(Object.fromEntries(outcomes)));
  // Hostile requests are refused with a 4xx: never answered as if valid, never a 5xx.
  for (const key of outcomes.keys())
    assert.doesNotMatch(key, /WRONG|2xx|5xx/, JSON.stringify(Object.fromEntries(outcomes)));
  assert.equal(server.child.exitCode, null, "the server did not crash");
  healthMs.sort((a, b) => a - b);
  const p99 = healthMs[Math.floor(healthMs.length * 0.99)] as number;
  assert.ok(healthMs.length > 10, `health probed ${healthMs.length} times`);
  assert.ok(p99 < 50, `/health p99 ${p99.toFixed(1)} ms over ${healthMs.length} probes`);
  assert.ok(rssEnd <= rssStart * 1.1, `RSS ${rssStart} kB before, ${rssEnd} kB after`);
  console.log(
    `fault load: ${result.requests.average} req/s, /health p99 ${p99.toFixed(1)} ms (${healthMs.length} probes), RSS ${rssStart} → ${rssEnd} kB, ${JSON.stringify(Object.fromEntries(outcomes))}`,
  );
  server.child.kill("SIGTERM");
  assert.equal(await server.exited, 0);
});
