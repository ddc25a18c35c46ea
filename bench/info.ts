/**
 * bench/info: latency of `GET /info` (answered from memory since #11) next to the OIP metadata route, on a
 * served model as large as DistilBERT-base (268 MB of weights), through the built CLI (`npm run build` first).
 *
 *   npx tsx bench/info.ts [--model DIR] [--requests 500] [--cli dist/cli/main.js]
 *
 * DIR is a model folder (model.onnx, with or without gpux.yml); by default bench-output/distilbert-base-onnx,
 * made once by bench/make_distilbert_base.py (random weights, fixed seed) and `gpux convert`.
 * Requests are sequential over one keep-alive connection; the first 50 are warm-up. --cli runs another build
 * (e.g. an older checkout's) for a before/after comparison.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";

const args = process.argv.slice(2);
const option = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const root = join(import.meta.dirname, "..");
const cli = option("cli") ?? join(root, "dist/cli/main.js");
const requests = Number(option("requests") ?? 500);
const warmup = 50;

function ensureModel(): string {
  const out = join(root, "bench-output", "distilbert-base-onnx");
  if (existsSync(join(out, "model.onnx"))) return out;
  const repo = join(root, "bench-output", "distilbert-base-repo");
  const python = process.env.GPUX_PYTHON ?? "python3";
  process.stderr.write("making the DistilBERT-base-sized checkpoint and converting it (once) …\n");
  const made = spawnSync(python, [join(root, "bench/make_distilbert_base.py"), repo], { stdio: "inherit" });
  if (made.status !== 0) throw new Error("make_distilbert_base.py failed; needs torch and transformers");
  const converted = spawnSync(process.execPath, [cli, "convert", repo, "--output", out], {
    stdio: "inherit",
  });
  if (converted.status !== 0) throw new Error("gpux convert failed");
  return out;
}

async function serve(dir: string): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, [cli, "serve", dir, "--port", "0"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
      const match = /playground\s+(http:\/\/\S+)/.exec(out);
      if (match) resolve(match[1] as string);
    });
    child.on("exit", (code) => reject(new Error(`gpux serve exited with ${code}`)));
  });
  return { url, stop: () => child.kill("SIGTERM") };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function get(url: string): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    http
      .get(url, { agent }, (response) => {
        response.resume();
        response.on("end", () => {
          if (response.statusCode !== 200) reject(new Error(`${url}: ${response.statusCode}`));
          else resolve(performance.now() - start);
        });
      })
      .on("error", reject);
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

async function measure(url: string): Promise<{ p50: number; p95: number }> {
  const times: number[] = [];
  for (let i = 0; i < warmup + requests; i++) {
    const ms = await get(url);
    if (i >= warmup) times.push(ms);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p95: percentile(times, 95) };
}

const dir = option("model") ?? ensureModel();
const onnx = join(dir, "model.onnx");
const bytes = statSync(onnx).size + (existsSync(`${onnx}_data`) ? statSync(`${onnx}_data`).size : 0);
const server = await serve(dir);
try {
  const info = await measure(`${server.url}info`);
  const name = (await (await fetch(`${server.url}info`)).json()) as { name: string };
  const metadata = await measure(`${server.url}v2/models/${name.name}`);
  console.log(
    `model ${dir} (${(bytes / 1e6).toFixed(0)} MB), ${requests} sequential requests after ${warmup}`,
  );
  console.log(`route                   p50 ms  p95 ms`);
  console.log(
    `GET /info               ${info.p50.toFixed(3).padStart(6)}  ${info.p95.toFixed(3).padStart(6)}`,
  );
  console.log(
    `GET /v2/models/{m}      ${metadata.p50.toFixed(3).padStart(6)}  ${metadata.p95.toFixed(3).padStart(6)}`,
  );
} finally {
  agent.destroy();
  server.stop();
}
