/**
 * bench/serve: a DistilBERT-base-sized text classifier (seq 128), raw in-process onnxruntime-node vs `gpux serve`,
 * measured side by side in one run (the machine is shared: compare ratios, not absolute figures).
 *
 *   npx tsx bench/serve.ts [--seconds 10] [--rounds 4]
 *
 * Raw: InferenceSession.run in this process at batch 1 and batch 2/4/8/16 (the best batch gives the best raw
 * throughput). Serve: the built CLI (`npm run build` first) with its defaults plus --max-batch-size 16, driven
 * over loopback HTTP at concurrency 1 (sequential requests), 4 and 16 (autocannon), while /health is polled
 * every 25 ms. Batch-1 latency is measured interleaved with serve's concurrency 1 so both see the same noise.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import autocannon from "autocannon";
import * as ort from "onnxruntime-node";
import { createSession } from "../src/runtime/create-session.js";

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const seconds = flag("seconds", 10);
const rounds = flag("rounds", 4);
const root = join(import.meta.dirname, "..");
const seq = 128;

function ensureModel(): string {
  const script = join(root, "bench", "make-text-classifier.py");
  const hash = createHash("sha256").update(readFileSync(script)).digest("hex").slice(0, 12);
  const dir = join(root, "bench-output", `distilbert-${hash}`);
  if (!existsSync(join(dir, "model.onnx"))) {
    process.stderr.write("exporting the DistilBERT-sized classifier with transformers (once) …\n");
    const result = spawnSync(process.env.GPUX_PYTHON ?? "python3", [script, dir], { stdio: "inherit" });
    if (result.status !== 0) throw new Error("export failed; needs torch and transformers");
  }
  return dir;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
};
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

async function startServe(dir: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(
    process.execPath,
    [join(root, "dist/cli/main.js"), "serve", dir, "--port", "0", "--max-batch-size", "16"],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const match = /playground\s+(http:\/\/\S+)/.exec(out);
      if (match) resolve(match[1] as string);
    });
    child.on("exit", (code) => reject(new Error(`gpux serve exited with ${code}`)));
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      child.on("exit", () => resolve());
      child.kill("SIGTERM");
    });
  return { url, stop };
}

async function post(url: string): Promise<number> {
  const start = performance.now();
  const response = await fetch(`${url}predict`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: requestBody,
  });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
  return performance.now() - start;
}

const dir = ensureModel();
const { session } = await createSession(join(dir, "model.onnx"), { provider: "cpu" });
const server = await startServe(dir);
for (let i = 0; i < 5; i++) {
  await session.run(ids(1));
  await post(server.url);
}

// /health is polled throughout the serve measurements.
const health: number[] = [];
let polling = true;
const poller = (async () => {
  while (polling) {
    const start = performance.now();
    await (await fetch(`${server.url}health`)).arrayBuffer();
    health.push(performance.now() - start);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
})();

// Batch 1, interleaved: raw run, then one serve request, repeated, so both see the same machine.
const raw1: number[] = [];
const serve1: number[] = [];
const perRound = Math.max(5, Math.round(seconds * 2));
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < perRound; i++) {
    const feeds = ids(1);
    const start = performance.now();
    await session.run(feeds);
    raw1.push(performance.now() - start);
    serve1.push(await post(server.url));
  }
}

// Raw batches: rows per second at each batch size, alternating with serve's concurrent runs.
const rawBatch = new Map<number, number>();
const serveRate = new Map<number, { rps: number; p50: number; p99: number }>();
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
for (let r = 0; r < rounds; r++) {
  for (const batch of [1, 2, 4, 8, 16])
    rawBatch.set(batch, Math.max(rawBatch.get(batch) ?? 0, await rawThroughput(batch)));
  for (const connections of [4, 16]) {
    const result = await autocannon({
      url: `${server.url}predict`,
      connections,
      duration: Math.max(2, Math.round(seconds / rounds)),
      requests: [{ method: "POST", headers: { "content-type": "application/json" }, body: requestBody }],
    });
    if (result.errors || result["5xx"] || result["4xx"]) throw new Error(`serve errors at c=${connections}`);
    const rps = result.requests.total / Math.max(2, Math.round(seconds / rounds));
    const best = serveRate.get(connections);
    if (!best || rps > best.rps)
      serveRate.set(connections, { rps, p50: result.latency.p50, p99: result.latency.p99 });
  }
}
polling = false;
await poller;
await server.stop();
await session.release();

const [bestBatch, bestRaw] = [...rawBatch].sort((a, b) => b[1] - a[1])[0] as [number, number];
const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const rows: string[][] = [
  [
    "raw in-process, batch 1",
    percentile(raw1, 50).toFixed(2),
    percentile(raw1, 99).toFixed(2),
    (1000 / mean(raw1)).toFixed(1),
  ],
  ...[...rawBatch].map(([batch, rps]) => [`raw in-process, batch ${batch}`, "", "", rps.toFixed(1)]),
  [
    "gpux serve, concurrency 1",
    percentile(serve1, 50).toFixed(2),
    percentile(serve1, 99).toFixed(2),
    (1000 / mean(serve1)).toFixed(1),
  ],
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
const overhead = percentile(serve1, 50) - percentile(raw1, 50);
const ratio = (serveRate.get(16)?.rps ?? 0) / bestRaw;
console.log(
  `\nconcurrency 1 p50 overhead: ${overhead.toFixed(2)} ms (target ≤ 1.5 ms) ${overhead <= 1.5 ? "PASS" : "MISS"}` +
    `\nconcurrency 16 throughput / best raw (batch ${bestBatch}): ${ratio.toFixed(2)} (target ≥ 0.9) ${ratio >= 0.9 ? "PASS" : "MISS"}` +
    `\n/health p99 during serve runs: ${percentile(health, 99).toFixed(2)} ms over ${health.length} polls (target < 20 ms) ${percentile(health, 99) < 20 ? "PASS" : "MISS"}`,
);
