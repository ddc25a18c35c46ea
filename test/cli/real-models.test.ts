/**
 * Models nobody on the gpux team made, run through the CLI and compared with a direct onnxruntime-node call
 * on the same inputs: PaddleOCR's text-direction classifier (examples/) and Silero VAD (int64 scalar input).
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import * as ort from "onnxruntime-node";
import { repoRoot, runCli } from "../helpers/cli.js";
import { tempDir } from "../helpers/temp-dir.js";

const dir = tempDir();
const textDirection = join(repoRoot, "examples", "text-direction");
const silero = join(repoRoot, "node_modules", "@jjhbw", "silero-vad", "weights", "silero_vad.onnx");

/** Deterministic pseudo-random floats in [-1, 1) (a linear congruential generator), rounded to float32. */
function noise(count: number, seed: number): number[] {
  let state = seed;
  return Array.from({ length: count }, () => {
    state = (state * 1664525 + 1013904223) % 2 ** 32;
    return Math.fround(state / 2 ** 31 - 1);
  });
}

function nest(flat: number[], shape: number[]): unknown {
  if (shape.length === 1) return flat;
  const [first, ...rest] = shape as [number, ...number[]];
  const size = flat.length / first;
  return Array.from({ length: first }, (_, i) => nest(flat.slice(i * size, (i + 1) * size), rest));
}

async function direct(path: string, feeds: Record<string, ort.Tensor>): Promise<Record<string, number[]>> {
  const session = await ort.InferenceSession.create(path);
  try {
    const out = await session.run(feeds);
    const values = Object.entries(out).map(([name, t]) => [name, Array.from(t.data as Float32Array)]);
    // Through JSON, as gpux's output travels: JSON has no -0, so -0 arrives as 0.
    return JSON.parse(JSON.stringify(Object.fromEntries(values)));
  } finally {
    await session.release();
  }
}

async function gpuxRun(model: string, request: unknown): Promise<Record<string, unknown>> {
  const file = join(dir, `request-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(request));
  const result = await runCli(["run", model, "-f", file]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
}

describe("PaddleOCR text-direction classifier (examples/text-direction)", () => {
  test("gpux run equals a direct onnxruntime-node call", async () => {
    const shape = [2, 3, 48, 192];
    const pixels = noise(2 * 3 * 48 * 192, 7);
    const expected = await direct(join(textDirection, "model.onnx"), {
      x: new ort.Tensor("float32", Float32Array.from(pixels), shape),
    });
    const out = await gpuxRun(textDirection, { x: nest(pixels, shape) });
    assert.deepEqual(Object.keys(out), ["softmax_0.tmp_0"]);
    const probabilities = out["softmax_0.tmp_0"] as number[][];
    assert.deepEqual(probabilities.flat(), expected["softmax_0.tmp_0"]);
    for (const row of probabilities) assert.ok(Math.abs((row[0] as number) + (row[1] as number) - 1) < 1e-5);
  });

  test("gpux inspect reports what onnxruntime-node reads", async () => {
    const session = await ort.InferenceSession.create(join(textDirection, "model.onnx"));
    const result = await runCli(["inspect", textDirection, "--json"]);
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout);
    const asSpec = (m: ort.InferenceSession.ValueMetadata) =>
      m.isTensor ? { name: m.name, dtype: m.type, shape: m.shape } : {};
    assert.deepEqual(
      out.inputs.map(({ description: _, ...spec }: { description?: string }) => spec),
      session.inputMetadata.map(asSpec),
    );
    assert.deepEqual(
      out.outputs.map(({ labels: _, description: __, ...spec }: Record<string, unknown>) => spec),
      session.outputMetadata.map(asSpec),
    );
    assert.deepEqual(out.outputs[0].labels, ["0", "180"]);
    assert.deepEqual(out.onnx.opsets, { "": 9 });
    await session.release();
  });
});

describe("Silero VAD (float32 audio, float32 state, int64 scalar sample rate)", () => {
  const samples = noise(512, 11).map((v) => v * 0.3);
  const state = noise(2 * 128, 3).map((v) => v * 0.1);

  test("gpux run equals a direct onnxruntime-node call", async () => {
    const expected = await direct(silero, {
      input: new ort.Tensor("float32", Float32Array.from(samples), [1, 512]),
      state: new ort.Tensor("float32", Float32Array.from(state), [2, 1, 128]),
      sr: new ort.Tensor("int64", BigInt64Array.from([16000n]), []),
    });
    const out = await gpuxRun(silero, { input: [samples], state: nest(state, [2, 1, 128]), sr: 16000 });
    assert.deepEqual(Object.keys(out).sort(), ["output", "stateN"]);
    assert.deepEqual((out.output as number[][]).flat(), expected.output);
    assert.deepEqual((out.stateN as number[][][]).flat(2), expected.stateN);
  });

  test("with gpux.yml making state optional, a left-out state is sent as zeros", async () => {
    const project = join(dir, "vad");
    mkdirSync(project, { recursive: true });
    copyFileSync(silero, join(project, "silero_vad.onnx"));
    writeFileSync(
      join(project, "gpux.yml"),
      "name: vad\nmodel:\n  source: silero_vad.onnx\ninputs:\n  state: {required: false, shape: [2, 1, 128]}\n",
    );
    const expected = await direct(silero, {
      input: new ort.Tensor("float32", Float32Array.from(samples), [1, 512]),
      state: new ort.Tensor("float32", new Float32Array(256), [2, 1, 128]),
      sr: new ort.Tensor("int64", BigInt64Array.from([16000n]), []),
    });
    const out = await gpuxRun(project, { input: [samples], sr: "16000" });
    assert.deepEqual((out.output as number[][]).flat(), expected.output);
  });

  test("gpux inspect: names, dtypes, symbolic dims, producer and opset", async () => {
    const result = await runCli(["inspect", silero, "--json"]);
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout);
    assert.deepEqual(out.inputs, [
      { name: "input", dtype: "float32", shape: [null, null] },
      { name: "state", dtype: "float32", shape: [2, null, 128] },
      { name: "sr", dtype: "int64", shape: [] },
    ]);
    assert.deepEqual(out.outputs, [
      { name: "output", dtype: "float32", shape: [null, 1] },
      { name: "stateN", dtype: "float32", shape: [null, null, null] },
    ]);
    assert.equal(out.onnx.producer, "spox");
    assert.deepEqual(out.onnx.opsets, { "": 16 });
  });

  test("a float sample rate is refused for the int64 input", async () => {
    const result = await runCli([
      "run",
      silero,
      "-i",
      JSON.stringify({ input: [samples], state: nest(state, [2, 1, 128]), sr: 16000.5 }),
    ]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^error: Input 'sr': element 0 is 16000\.5, expected an integer/);
  });
});
