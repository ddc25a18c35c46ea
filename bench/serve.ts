/**
 * bench/serve: a DistilBERT-base-sized text classifier (seq 128), raw in-process onnxruntime-node vs `gpux serve`,
 * measured side by side in one run (the machine is shared: compare ratios, not absolute figures).
 *
 *   npx tsx bench/serve.ts [--seconds 10] [--rounds 4] [--serve-seconds 20] [--worker-nice 10]
 *                          [--pairs 320] [--isolation process|thread]
 *
 * Raw: InferenceSession.run in this process at batch 1 and batch 2/4/8/16 (the best batch gives the best raw
 * throughput). Serve: the built CLI (`npm run build` first) with its defaults plus --max-batch-size set to that
 * best raw batch size, driven over loopback HTTP at concurrency 1 (sequential requests, node:http keep-alive),
 * 4 and 16 (autocannon for --serve-seconds), while /health is polled every 25 ms from a worker thread.
 * Batch-1 latency is measured interleaved with serve's concurrency 1, and each concurrency-16 run is bracketed
 * by raw runs at the best batch size (raw, serve, raw), so both sides see the same machine.
 * The floor: two minimal servers (bench/floor/minimal-server.mjs: node:http or a bare socket in front of one
 * worker thread with the same session, and nothing else) are timed in the same concurrency-1 loop, to show how
 * much of the overhead any Node server with an inference thread pays here and how much is gpux's own.
 * Decidable at concurrency 1: each answer's server-timing says how long the model itself ran, so the client's
 * time less that compute is what serving added to that very request, without the model's run-to-run spread
 * (±10 ms at p50 ~75 ms, which made the difference of two medians move by ±2 ms); gpux's and the minimal
 * server's are compared with a 95% bootstrap interval.
 */
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import autocannon from "autocannon";
import * as ort from "onnxruntime-node";
import { createSession } from "../src/runtime/create-session.js";
import { buildOnnxModel } from "../test/helpers/onnx-builder.js";
import { medianDifferenceInterval, percentile } from "./bootstrap.js";
import { ensureTextClassifier } from "./text-classifier.js";

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const seconds = flag("seconds", 10);
const serveSeconds = flag("serve-seconds", 20);
const workerNice = flag("worker-nice", 10);
const rounds = flag("rounds", 4);
// ~4 requests of ~80 ms per pair: 320 pairs take ~100 s on the 2-core machine
const pairs = flag("pairs", 320);
const isolationAt = args.indexOf("--isolation");
const isolation = isolationAt >= 0 ? (args[isolationAt + 1] as string) : "process";
const root = join(import.meta.dirname, "..");
const seq = 128;

/** Same inputs and output as the classifier, almost no compute: isolates what serving adds per request. */
function ensureTrivialModel(): string {
  const dir = join(root, "bench-output", "same-io-trivial");
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "model.onnx"),
    buildOnnxModel({
      inputs: [
        { name: "input_ids", dtype: "int64", shape: ["batch", seq] },
        { name: "attention_mask", dtype: "int64", shape: ["batch", seq] },
      ],
      outputs: [{ name: "logits", dtype: "float32", shape: ["batch", 2] }],
      nodes: [
        { op: "Add", inputs: ["input_ids", "attention_mask"], outputs: ["sum"] },
        { op: "Cast", inputs: ["sum"], outputs: ["sumf"], attributes: { to: 1 } },
        { op: "MatMul", inputs: ["sumf", "w"], outputs: ["logits"] },
      ],
      initializers: [{ name: "w", dtype: "float32", dims: [seq, 2], values: new Array(seq * 2).fill(0.001) }],
    }),
  );
  writeFileSync(join(dir, "gpux.yml"), "name: same-io-trivial\nmodel:\n  source: model.onnx\n");
  return dir;
}

const ids = (batch: number) => {
  const data = new BigInt64Array(batch * seq);
  for (let i = 0; i < data.length; i++) data[i] = BigInt(1000 + ((i * 7919) % 20000));
  return {
    input_ids: new ort.Tensor("int64", data, [batch, seq]),
    attention_mask: new ort.Tensor("int64", new BigInt64Array(batch * seq).fill(1n), [batch, seq]),
  };
};
const requestBody = JSON.stringify({
  input_ids: [Array.from({ length: seq }, (_, i) => 1000 + ((i * 7919) % 20000))],
  attention_mask: [new Array(seq).fill(1)],
});

interface RunningServer {
  url: string;
  stop: () => Promise<void>;
}

/** Start a server process and wait for the URL it prints (matched by `announces`). */
async function startServer(args: string[], announces: RegExp): Promise<RunningServer> {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const match = announces.exec(out);
      if (match) resolve(match[1] as string);
    });
    child.on("exit", (code) => reject(new Error(`${args.join(" ")} exited with ${code}`)));
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      child.on("exit", () => resolve());
      child.kill("SIGTERM");
    });
  return { url, stop };
}

const startServe = (dir: string, maxBatchSize = 16) =>
  startServer(
    [
      join(root, "dist/cli/main.js"),
      "serve",
      dir,
      "--port",
      "0",
      "--max-batch-size",
      String(maxBatchSize),
      "--worker-nice",
      String(workerNice),
      "--isolation",
      isolation,
    ],
    /playground\s+(http:\/\/\S+)/,
  );

/** bench/floor/minimal-server.mjs: the least a Node server with an inference thread can do (see that file). */
const startMinimal = (dir: string, front: "http" | "socket") =>
  startServer(
    [join(root, "bench/floor/minimal-server.mjs"), join(dir, "model.onnx"), front],
    /listening\s+(http:\/\/\S+)/,
  );

/** One answer as the client saw it: its whole time, and the model's own run from the server-timing header. */
interface Timed {
  ms: number;
  computeMs: number;
}

// A lean keep-alive client (node:http), so the figures are gpux's and not a heavy client library's.
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
function post(url: string): Promise<Timed> {
  const target = new URL(`${url}predict`);
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(requestBody) },
      },
      (response) => {
        response.resume();
        const timing = String(response.headers["server-timing"] ?? "");
        const computeMs = Number(/compute;dur=([\d.]+)/.exec(timing)?.[1] ?? Number.NaN);
        response.on("end", () =>
          response.statusCode === 200
            ? resolve({ ms: performance.now() - start, computeMs })
            : reject(new Error(`HTTP ${response.statusCode}`)),
        );
      },
    );
    request.on("error", reject);
    request.end(requestBody);
  });
}

// Serving overhead alone: the classifier's request and answer, a graph that computes almost nothing.
const trivialDir = ensureTrivialModel();
const trivial = await createSession(join(trivialDir, "model.onnx"), { provider: "cpu" });
const trivialServer = await startServe(trivialDir);
const trivialRaw: number[] = [];
const trivialServe: number[] = [];
for (let i = 0; i < 600; i++) {
  const feeds = ids(1);
  const start = performance.now();
  await trivial.session.run(feeds);
  if (i >= 100) trivialRaw.push(performance.now() - start);
  const { ms } = await post(trivialServer.url);
  if (i >= 100) trivialServe.push(ms);
}
await trivialServer.stop();
await trivial.session.release();

const dir = ensureTextClassifier();
const { session } = await createSession(join(dir, "model.onnx"), { provider: "cpu" });
for (let i = 0; i < 3; i++) await session.run(ids(1));

// Raw batch sweep first: the best batch size is what serve is given as --max-batch-size.
const rawBatch = new Map<number, number>();
const rawThroughput = async (batch: number) => {
  const feeds = ids(batch);
  const start = performance.now();
  let rows = 0;
  while (performance.now() - start < (seconds * 1000) / rounds) {
    await session.run(feeds);
    rows += batch;
  }
  return rows / ((performance.now() - start) / 1000);
};
const recordRaw = async (batch: number) =>
  rawBatch.set(batch, Math.max(rawBatch.get(batch) ?? 0, await rawThroughput(batch)));
for (let r = 0; r < rounds; r++) for (const batch of [1, 2, 4, 8, 16]) await recordRaw(batch);
const sweepBest = ([...rawBatch].sort((a, b) => b[1] - a[1])[0] as [number, number])[0];

const server = await startServe(dir, sweepBest);
for (let i = 0; i < 5; i++) await post(server.url);

// /health is polled from a worker thread (this thread blocks in raw session.run) every 25 ms; a poll counts
// when the serve side was being driven during all of it (flag in shared memory).
const shared = new Int32Array(new SharedArrayBuffer(8));
const pollerCode = `
const { workerData, parentPort } = require("node:worker_threads");
const flags = new Int32Array(workerData.buffer);
const times = [];
(async () => {
  while (Atomics.load(flags, 1) === 0) {
    const on = Atomics.load(flags, 0);
    const start = performance.now();
    await (await fetch(workerData.url + "health")).arrayBuffer();
    const ms = performance.now() - start;
    if (on && Atomics.load(flags, 0)) times.push(ms);
    await new Promise((r) => setTimeout(r, 25));
  }
  parentPort.postMessage(times);
})();`;
const poller = new Worker(pollerCode, { eval: true, workerData: { buffer: shared.buffer, url: server.url } });
const healthDone = new Promise<number[]>((resolve) => poller.once("message", resolve));
const serving = (on: boolean) => Atomics.store(shared, 0, on ? 1 : 0);

// Batch 1, interleaved: a raw run, then one request to gpux serve and one to each minimal server (in turn
// first), repeated, so all see the same machine. Each request follows an inference, as gpux's do.
const minimalHttp = await startMinimal(dir, "http");
const minimalSocket = await startMinimal(dir, "socket");
for (let i = 0; i < 5; i++) for (const s of [minimalHttp, minimalSocket]) await post(s.url);
const raw1: number[] = [];
const serve1: Timed[] = [];
const floorHttp1: Timed[] = [];
const floorSocket1: Timed[] = [];
const perRound = Math.max(5, Math.ceil(pairs / rounds));
const c1Targets: Array<[string, Timed[]]> = [
  [server.url, serve1],
  [minimalHttp.url, floorHttp1],
  [minimalSocket.url, floorSocket1],
];
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < perRound; i++) {
    const feeds = ids(1);
    const start = performance.now();
    await session.run(feeds);
    raw1.push(performance.now() - start);
    for (let k = 0; k < c1Targets.length; k++) {
      const [url, times] = c1Targets[(i + k) % c1Targets.length] as [string, Timed[]];
      serving(url === server.url);
      times.push(await post(url));
      serving(false);
    }
  }
}
await minimalHttp.stop();
await minimalSocket.stop();

/** The server's own inference counters (/metrics): seconds inside session.run, rows and batches run. */
async function inferenceTotals(url: string): Promise<{ seconds: number; rows: number; batches: number }> {
  const text = await (await fetch(`${url}metrics`)).text();
  return {
    seconds: metricValue(text, "gpux_inference_compute_infer_duration_seconds_sum"),
    rows: metricValue(text, "gpux_inference_batch_size_sum"),
    batches: metricValue(text, "gpux_inference_batch_size_count"),
  };
}

/** One labelled series' value in a /metrics text (the bench serves one model per server). */
function metricValue(text: string, name: string): number {
  const value = new RegExp(`^${name}\\{[^}]*\\} (\\S+)`, "m").exec(text)?.[1];
  if (value === undefined) throw new Error(`no ${name} in /metrics`);
  return Number(value);
}

/** Wait until the server holds no request (its in-flight gauge reads 0). */
async function untilIdle(url: string): Promise<void> {
  for (const start = performance.now(); performance.now() - start < 120_000; ) {
    const text = await (await fetch(`${url}metrics`)).text();
    if (metricValue(text, "gpux_inference_in_flight_requests") === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("the server still had requests in flight 120 s after the load stopped");
}

// Throughput: serve at concurrency 4, then serve at concurrency 16 bracketed by raw runs at the best batch
// size (raw, c=16, raw), per round. The host's speed drifts by tens of percent over minutes here, so c=16 is
// compared with the mean of the two raw runs on either side of it, not with the fastest raw run of the sweep.
const serveRate = new Map<number, { rps: number; p50: number; p99: number }>();
/** Serve c=16 over the mean of the raw runs just before and just after it, per round. */
const roundRatios: number[] = [];
/**
 * Where a c=16 shortfall goes, per round: a worker idle between batches (busy < 100%), batches not full, or
 * session.run itself slower per row in the server than in this process around it (contention for the cores).
 */
const c16Breakdown: string[] = [];
const driveServe = async (connections: number) => {
  const before = await inferenceTotals(server.url);
  serving(true);
  const result = await autocannon({
    url: `${server.url}predict`,
    connections,
    duration: serveSeconds,
    timeout: 60,
    requests: [{ method: "POST", headers: { "content-type": "application/json" }, body: requestBody }],
  });
  serving(false);
  if (result.errors || result["5xx"] || result["4xx"])
    throw new Error(
      `serve errors at c=${connections}: ${result.errors} errors, ${result["4xx"]} 4xx, ${result["5xx"]} 5xx`,
    );
  const rps = result.requests.total / serveSeconds;
  // autocannon stops at its deadline with up to `connections` requests still in the server: let them finish,
  // or the raw run that follows shares the cores with them (it ran at half speed after c=16 that way); the
  // counters are read first, so the worker's busy share is that of the load's own window
  const after = await inferenceTotals(server.url);
  await untilIdle(server.url);
  const best = serveRate.get(connections);
  if (!best || rps > best.rps)
    serveRate.set(connections, { rps, p50: result.latency.p50, p99: result.latency.p99 });
  return { rps, before, after };
};
for (let r = 0; r < rounds; r++) {
  await driveServe(4);
  const rawBefore = await rawThroughput(sweepBest);
  const { rps, before, after } = await driveServe(16);
  const rawAfter = await rawThroughput(sweepBest);
  for (const raw of [rawBefore, rawAfter])
    rawBatch.set(sweepBest, Math.max(rawBatch.get(sweepBest) ?? 0, raw));
  const rawAround = (rawBefore + rawAfter) / 2;
  roundRatios.push(rps / rawAround);
  const seconds = after.seconds - before.seconds;
  const rowsRun = after.rows - before.rows;
  c16Breakdown.push(
    `${(rps / rawAround).toFixed(2)}: serve ${rps.toFixed(2)}/s, raw around it ${rawBefore.toFixed(2)} and ${rawAfter.toFixed(2)}/s; ` +
      `worker busy ${((100 * seconds) / serveSeconds).toFixed(0)}%, ${(rowsRun / (after.batches - before.batches)).toFixed(1)} rows per batch, ` +
      `session.run ${((1000 * seconds) / rowsRun).toFixed(1)} ms per row (raw batch ${sweepBest} around it: ${(1000 / rawAround).toFixed(1)} ms)`,
  );
}
Atomics.store(shared, 1, 1);
const health = await healthDone;
await poller.terminate();
await server.stop();
await session.release();

const totals = (timed: Timed[]) => timed.map((t) => t.ms);
/** What serving added to each request: the client's time less the model's own run inside the server. */
const beyondCompute = (timed: Timed[]) => timed.map((t) => t.ms - t.computeMs);
const [serveMs, floorHttpMs, floorSocketMs] = [serve1, floorHttp1, floorSocket1].map(totals) as [
  number[],
  number[],
  number[],
];
const [serveBeyond, floorHttpBeyond, floorSocketBeyond] = [serve1, floorHttp1, floorSocket1].map(
  beyondCompute,
) as [number[], number[], number[]];
const [bestBatch, bestRaw] = [...rawBatch].sort((a, b) => b[1] - a[1])[0] as [number, number];
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const rows: string[][] = [
  [
    "trivial graph, same I/O: raw batch 1",
    percentile(trivialRaw, 50).toFixed(3),
    percentile(trivialRaw, 99).toFixed(3),
    "",
  ],
  [
    "trivial graph, same I/O: serve c=1",
    percentile(trivialServe, 50).toFixed(3),
    percentile(trivialServe, 99).toFixed(3),
    "",
  ],
  [
    "raw in-process, batch 1",
    percentile(raw1, 50).toFixed(2),
    percentile(raw1, 99).toFixed(2),
    (1000 / mean(raw1)).toFixed(1),
  ],
  ...[...rawBatch].map(([batch, rps]) => [
    `raw in-process, batch ${batch} (throughput)`,
    "",
    "",
    rps.toFixed(1),
  ]),
  [
    "gpux serve, concurrency 1",
    percentile(serveMs, 50).toFixed(2),
    percentile(serveMs, 99).toFixed(2),
    (1000 / mean(serveMs)).toFixed(1),
  ],
  ...(
    [
      ["minimal node:http server + worker, c=1", floorHttpMs],
      ["minimal bare-socket server + worker, c=1", floorSocketMs],
    ] as Array<[string, number[]]>
  ).map(([name, times]) => [
    name,
    percentile(times, 50).toFixed(2),
    percentile(times, 99).toFixed(2),
    (1000 / mean(times)).toFixed(1),
  ]),
  ...[...serveRate].map(([c, s]) => [
    `gpux serve, concurrency ${c}`,
    s.p50.toFixed(2),
    s.p99.toFixed(2),
    s.rps.toFixed(1),
  ]),
];
const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => (r[i] ?? "").length), 12));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(" | ")} |`;
console.log(line(["setup", "p50 ms", "p99 ms", "inferences/s"]));
console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
for (const row of rows) console.log(line(row));
const overhead = percentile(serveMs, 50) - percentile(raw1, 50);
const interval = (a: number[], b = raw1) =>
  medianDifferenceInterval(a, b)
    .map((ms) => ms.toFixed(2))
    .join(" to ");
const beyondGap = percentile(serveBeyond, 50) - percentile(floorHttpBeyond, 50);
const [gapLow, gapHigh] = medianDifferenceInterval(serveBeyond, floorHttpBeyond);
const sortedRatios = [...roundRatios].sort((a, b) => a - b);
const ratio = (serveRate.get(16)?.rps ?? 0) / bestRaw;
const bracketed = percentile(sortedRatios, 50);
console.log(
  `\nserving overhead per request (trivial graph, same request and answer): p50 ${(percentile(trivialServe, 50) - percentile(trivialRaw, 50)).toFixed(3)} ms` +
    `\nconcurrency 1 p50 overhead: ${overhead.toFixed(2)} ms (target ≤ 1.5 ms) ${overhead <= 1.5 ? "PASS" : "MISS"}` +
    `\n  (95% bootstrap interval of that difference of medians: ${interval(serveMs)} ms)` +
    `\n  (diagnostic: median of the ${raw1.length} paired differences serve − raw, each pair measured back to back: ${percentile(
      serveMs.map((ms, i) => ms - (raw1[i] as number)),
      50,
    ).toFixed(2)} ms)` +
    `\n  (floor, same client and interleaving: minimal node:http server + worker ${(percentile(floorHttpMs, 50) - percentile(raw1, 50)).toFixed(2)} ms` +
    ` [${interval(floorHttpMs)}],` +
    ` minimal bare-socket server + worker ${(percentile(floorSocketMs, 50) - percentile(raw1, 50)).toFixed(2)} ms` +
    ` [${interval(floorSocketMs)}])` +
    `\nconcurrency 1, time beyond the model's own run (client time − server-timing compute), p50 over ${serveBeyond.length} requests each:` +
    ` gpux ${percentile(serveBeyond, 50).toFixed(2)} ms, minimal node:http + worker ${percentile(floorHttpBeyond, 50).toFixed(2)} ms,` +
    ` minimal bare socket + worker ${percentile(floorSocketBeyond, 50).toFixed(2)} ms` +
    `\n  gpux − minimal node:http: ${beyondGap.toFixed(2)} ms (95% bootstrap interval ${gapLow.toFixed(2)} to ${gapHigh.toFixed(2)}) (target ≤ 0.5 ms) ${gapHigh <= 0.5 ? "PASS" : gapLow > 0.5 ? "MISS" : "UNDECIDED"}` +
    `\n  (the model's own run, p50: in gpux serve ${percentile(
      serve1.map((t) => t.computeMs),
      50,
    ).toFixed(2)} ms, in the minimal server ${percentile(
      floorHttp1.map((t) => t.computeMs),
      50,
    ).toFixed(2)} ms, raw in-process ${percentile(raw1, 50).toFixed(2)} ms)` +
    `\nconcurrency 16 throughput over raw batch ${sweepBest} run just before and after it, median of ${roundRatios.length} rounds: ${bracketed.toFixed(2)} (target ≥ 0.9) ${bracketed >= 0.9 ? "PASS" : "MISS"}` +
    `\n  (per round: ${sortedRatios.map((r) => r.toFixed(2)).join(" ")}; the best c=16 over the fastest raw run of the whole bench, batch ${bestBatch}, which mixes moments of a drifting host: ${ratio.toFixed(2)})` +
    c16Breakdown.map((line, r) => `\n  (c=16 round ${r + 1}: ${line})`).join("") +
    `\n/health p99 during serve runs: ${percentile(health, 99).toFixed(2)} ms over ${health.length} polls (target < 20 ms) ${percentile(health, 99) < 20 ? "PASS" : "MISS"}`,
);
