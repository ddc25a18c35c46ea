import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { after, test } from "node:test";
import * as ort from "onnxruntime-node";
import { loadConfig } from "../../src/config/load-config.js";
import { type ArenaAllocate, ArenaCursor } from "../../src/engine/arena-space.js";
import { DynamicBatcher } from "../../src/engine/dynamic-batcher.js";
import { mergeFeeds } from "../../src/engine/merge-feeds.js";
import { sharedMemory } from "../../src/engine/shared-memory.js";
import { fromWire, toWire } from "../../src/engine/wire-tensor.js";
import { startWorkerHost, type WorkerHost } from "../../src/engine/worker-host.js";
import { WorkerPool } from "../../src/engine/worker-pool.js";
import type { FromWorker, WorkerInit } from "../../src/engine/worker-protocol.js";
import type { TensorMap } from "../../src/pipeline/pipeline.js";
import type { ModelSpec } from "../helpers/onnx-builder.js";
import { addOneSpec, slowModelSpec, slowRequest, writeModelFolder } from "../helpers/serving.js";
import { tempDir } from "../helpers/temp-dir.js";
import { until } from "../helpers/until.js";

// CI builds the addon (npm ci's postinstall, a C compiler is there); elsewhere it may be missing
const addonMissing = !sharedMemory().available && !process.env.CI;
const skip = addonMissing && "the shared-memory addon is not built (node scripts/build-native.mjs)";

/** y = x + 1 (float32) and z = ids (int64, an Identity: ONNX Runtime may answer with the input itself). */
const twoInputSpec: ModelSpec = {
  inputs: [
    { name: "x", dtype: "float32", shape: ["batch", 4] },
    { name: "ids", dtype: "int64", shape: ["n"] },
  ],
  outputs: [
    { name: "y", dtype: "float32", shape: ["batch", 4] },
    { name: "z", dtype: "int64", shape: ["n"] },
  ],
  nodes: [
    { op: "Add", inputs: ["x", "one"], outputs: ["y"] },
    { op: "Identity", inputs: ["ids"], outputs: ["z"] },
  ],
  initializers: [{ name: "one", dtype: "float32", dims: [1], values: [1] }],
};

const dir = tempDir();
/** A worker's init for `spec`, written as model NAME in this file's temp folder. */
async function initFor(name: string, spec: ModelSpec): Promise<WorkerInit> {
  const folder = writeModelFolder(dir, name, spec, `name: ${name}\nmodel:\n  source: model.onnx\n`);
  return { loaded: await loadConfig(`${folder}/gpux.yml`) };
}
const init = () => initFor("two", twoInputSpec);

function feeds(seed: number, rows = 2): TensorMap {
  const x = Float32Array.from({ length: rows * 4 }, (_, i) => seed * 100 + i);
  const ids = BigInt64Array.from({ length: 3 }, (_, i) => BigInt(seed * 1000 + i));
  return { x: new ort.Tensor("float32", x, [rows, 4]), ids: new ort.Tensor("int64", ids, [3]) };
}

function plain(outputs: TensorMap): Record<string, { dims: readonly number[]; data: unknown[] }> {
  return Object.fromEntries(
    Object.entries(outputs).map(([name, t]) => [
      name,
      { dims: t.dims, data: Array.from(t.data as Iterable<unknown>) },
    ]),
  );
}

/** True when a message holds tensor bytes anywhere (a typed array or an ArrayBuffer). */
function carriesBytes(value: unknown): boolean {
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return true;
  if (Array.isArray(value)) return value.some(carriesBytes);
  if (value && typeof value === "object") return Object.values(value).some(carriesBytes);
  return false;
}

/** The inference processes running now (this test file's children). */
function inferenceProcesses(): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        return (
          parent === process.pid && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("inference-worker")
        );
      } catch {
        return false; // ended meanwhile
      }
    })
    .map(Number);
}

/** Set GPUX_SHARED_MEMORY for the workers started inside `body` (they inherit the environment). */
async function withSharedMemory<T>(setting: string | undefined, body: () => Promise<T>): Promise<T> {
  const before = process.env.GPUX_SHARED_MEMORY;
  if (setting === undefined) delete process.env.GPUX_SHARED_MEMORY;
  else process.env.GPUX_SHARED_MEMORY = setting;
  try {
    return await body();
  } finally {
    if (before === undefined) delete process.env.GPUX_SHARED_MEMORY;
    else process.env.GPUX_SHARED_MEMORY = before;
  }
}

/** An inference process and every message it sends, as they arrive. */
async function startHost(): Promise<{
  host: WorkerHost;
  ready: FromWorker;
  next: () => Promise<FromWorker>;
}> {
  const host = startWorkerHost("process", await init());
  after(() => host.kill());
  const queue: FromWorker[] = [];
  const waiting: Array<(message: FromWorker) => void> = [];
  host.onMessage((message) => {
    const wake = waiting.shift();
    if (wake) wake(message);
    else queue.push(message);
  });
  const next = () => {
    const queued = queue.shift();
    return queued ? Promise.resolve(queued) : new Promise<FromWorker>((resolve) => waiting.push(resolve));
  };
  return { host, ready: await next(), next };
}

test("shared memory: request and answer tensors cross in the arena, the pipe's messages carry only offsets", {
  skip,
}, async () => {
  const { host, ready, next } = await startHost();
  assert.equal(ready.kind, "ready");
  assert.equal((ready as { sharedArena?: boolean }).sharedArena, true, "the worker mapped its arena");
  const arena = host.arena;
  assert.ok(arena && arena.byteLength === 64 * 1024 * 1024, "a 64 MiB arena by default");

  const whole = { from: 0, to: arena.byteLength };
  const request = toWire(feeds(1), undefined, new ArenaCursor(arena, whole));
  assert.equal(carriesBytes(request), false, JSON.stringify(request));
  assert.deepEqual(
    Object.values(request).map((t) => ("arenaOffset" in t ? t.arenaOffset : -1)),
    [0, 64],
    "one after the other, each on a 64-byte boundary",
  );
  host.post({ kind: "run", id: 1, feeds: request, arenaSpan: whole }, []);
  const answer = await next();
  assert.equal(answer.kind, "result", JSON.stringify(answer));
  if (answer.kind !== "result") return;
  assert.equal(carriesBytes(answer), false, JSON.stringify(answer));
  for (const t of Object.values(answer.outputs))
    assert.ok("arenaOffset" in t && t.arenaOffset >= 128, "written after the inputs, not over them");
  assert.deepEqual(plain(fromWire(answer.outputs, arena)), {
    y: { dims: [2, 4], data: [101, 102, 103, 104, 105, 106, 107, 108] },
    z: { dims: [3], data: [1000n, 1001n, 1002n] },
  });
});

test("shared memory: tensors past the arena's end and strings take the pipe beside those in the arena", {
  skip,
}, async () => {
  await withSharedMemory("1", async () => {
    const { host, next } = await startHost();
    const arena = host.arena;
    assert.equal(arena?.byteLength, 1024 * 1024);
    const big = feeds(2, 40_000); // x: 640 000 bytes, fits; its answer y does not fit after it
    const whole = { from: 0, to: arena?.byteLength ?? 0 };
    const request = toWire(big, undefined, arena && new ArenaCursor(arena, whole));
    assert.ok("arenaOffset" in (request.x ?? {}) && "arenaOffset" in (request.ids ?? {}));
    host.post({ kind: "run", id: 1, feeds: request, arenaSpan: whole }, []);
    const answer = await next();
    assert.equal(answer.kind, "result");
    if (answer.kind !== "result") return;
    assert.ok(answer.outputs.y && "data" in answer.outputs.y, "y (640 000 bytes) took the pipe");
    assert.ok(answer.outputs.z && "arenaOffset" in answer.outputs.z, "z (24 bytes) still fits");
    const outputs = fromWire(answer.outputs, arena);
    const y = outputs.y?.data as Float32Array;
    assert.equal(y.length, 160_000);
    assert.equal(y[159_999], 200 + 159_999 + 1);
    assert.deepEqual(Array.from(outputs.z?.data as BigInt64Array), [2000n, 2001n, 2002n]);

    const strings = toWire(
      { s: new ort.Tensor("string", ["a\u0000b", "é"], [2]) },
      undefined,
      arena && new ArenaCursor(arena, whole),
    );
    assert.deepEqual(strings.s, { type: "string", dims: [2], data: ["a\u0000b", "é"] });
  });
});

/**
 * 12 batches one after the other on one worker; every answer kept, unreleased, until the end: each holds
 * its span of the arena, so later batches are given other room and no answer is overwritten.
 */
async function poolAnswers(): Promise<unknown[]> {
  const pool = new WorkerPool({ init: await init(), isolation: "process" });
  await pool.start();
  try {
    const results = [];
    for (let seed = 0; seed < 12; seed++) results.push(await pool.run(feeds(seed, 1 + (seed % 3)), false));
    const answers = results.map((result) => plain(result.outputs));
    for (const result of results) result.release();
    assert.equal(pool.heldArenaBytes, 0, "every span handed back");
    return answers;
  } finally {
    await pool.close();
  }
}

test("shared memory: a worker pool answers the same through the arena as through the pipe (GPUX_SHARED_MEMORY=0)", {
  skip,
}, async () => {
  const shared = await withSharedMemory(undefined, poolAnswers);
  const piped = await withSharedMemory("0", poolAnswers);
  assert.deepEqual(shared, piped);
  assert.deepEqual(shared[11], {
    y: { dims: [3, 4], data: Array.from({ length: 12 }, (_, i) => 1100 + i + 1) },
    z: { dims: [3], data: [11000n, 11001n, 11002n] },
  });
  assert.equal(sharedMemory().available, true);
  await withSharedMemory("0", async () => {
    const off = sharedMemory();
    assert.equal(off.available, false);
    assert.match(off.available ? "" : off.why, /GPUX_SHARED_MEMORY=0/);
    const { host, ready } = await startHost();
    assert.equal(host.arena, undefined, "no arena is made");
    assert.equal((ready as { sharedArena?: boolean }).sharedArena, false);
  });
});

test("shared memory: an inference process killed mid-request fails that request; its replacement's arena answers right", {
  skip,
}, async () => {
  let restarted!: () => void;
  const back = new Promise<void>((resolve) => {
    restarted = resolve;
  });
  const others = new Set(inferenceProcesses()); // the other tests' hosts, still up until the file ends
  const pool = new WorkerPool({
    init: await initFor("slow", slowModelSpec(96, 4096)),
    isolation: "process",
    onWorkerRestarted: (error) => (error ? assert.fail(error) : restarted()),
  });
  await pool.start();
  after(() => pool.close());
  const x = () =>
    new ort.Tensor(
      "float32",
      Float32Array.from(slowRequest.x[0] as number[], (v, i) => v + i),
      [1, 256],
    );
  const before = await pool.run({ x: x() }, false);
  const [worker, ...more] = inferenceProcesses().filter((pid) => !others.has(pid));
  assert.ok(worker && more.length === 0, "the pool's one inference process");
  const running = pool.run({ x: x() }, false);
  await new Promise((r) => setTimeout(r, 100));
  process.kill(worker, "SIGKILL");
  await assert.rejects(running, /died \(signal SIGKILL\)/);
  await back;
  const replacement = inferenceProcesses().filter((pid) => !others.has(pid));
  assert.ok(replacement.length === 1 && replacement[0] !== worker, "a new inference process");
  // its own arena: an unlinked file of /dev/shm mapped into it
  assert.match(readFileSync(`/proc/${replacement[0]}/maps`, "utf8"), /gpux-arena-\S+ \(deleted\)/);
  const afterRestart = await pool.run({ x: x() }, false);
  assert.deepEqual(plain(afterRestart.outputs), plain(before.outputs));
  const y = afterRestart.outputs.y?.data as Float32Array;
  assert.ok(Math.abs((y[255] ?? 0) - 128.5) < 1e-2, `every y is the mean of x, 128.5 (${y[255]})`);
});

test("shared memory: nothing is copied to cross: a merged batch is built in the arena, ONNX Runtime writes the answers there, the server reads them in place", {
  skip,
}, async () => {
  const pool = new WorkerPool({ init: await init(), isolation: "process" });
  await pool.start();
  after(() => pool.close());
  const arenaBytes = sharedMemory().available ? 64 * 1024 * 1024 : 0;
  const batch = (seed: number) => (allocate?: ArenaAllocate) =>
    mergeFeeds([{ feeds: feeds(seed) }, { feeds: feeds(seed + 1, 1) }], allocate);
  const expected = (seed: number) => ({
    y: {
      dims: [3, 4],
      data: [
        ...Array.from({ length: 8 }, (_, i) => seed * 100 + i + 1),
        ...Array.from({ length: 4 }, (_, i) => (seed + 1) * 100 + i + 1),
      ],
    },
    z: {
      dims: [6],
      data: [0, 1, 2]
        .map((i) => BigInt(seed * 1000 + i))
        .concat([0, 1, 2].map((i) => BigInt((seed + 1) * 1000 + i))),
    },
  });

  const first = await pool.run(batch(1), true);
  assert.deepEqual(plain(first.outputs), expected(1));
  assert.equal(first.copiedBytes, 48 + 48, "the first time the answer's shapes are unknown: copied in once");
  first.release();

  const second = await pool.run(batch(3), true);
  assert.deepEqual(plain(second.outputs), expected(3));
  assert.equal(second.copiedBytes, 0, "same input shapes: ONNX Runtime wrote into the arena itself");
  for (const tensor of Object.values(second.outputs))
    assert.equal(
      (tensor.data as Float32Array).buffer.byteLength,
      arenaBytes,
      "a view of the arena, not a copy",
    );

  // held while unreleased: the next batch does not write over it
  const third = await pool.run(batch(5), true);
  assert.deepEqual(plain(second.outputs), expected(3));
  assert.deepEqual(plain(third.outputs), expected(5));
  assert.ok(pool.heldArenaBytes > 0);
  second.release();
  third.release();
  third.release(); // twice is harmless
  assert.equal(pool.heldArenaBytes, 0);
});

test("shared memory: a model whose answer's shape follows its input values is answered right when the guess is wrong", {
  skip,
}, async () => {
  const expandSpec: ModelSpec = {
    // it claims its answer's shape follows x's: it follows the values of `shape`
    inputs: [
      { name: "x", dtype: "float32", shape: ["n"] },
      { name: "shape", dtype: "int64", shape: [2] },
    ],
    outputs: [{ name: "y", dtype: "float32", shape: ["n", "n"] }],
    nodes: [{ op: "Expand", inputs: ["x", "shape"], outputs: ["y"] }],
  };
  const pool = new WorkerPool({
    init: await initFor("expand", expandSpec),
    isolation: "process",
  });
  await pool.start();
  after(() => pool.close());
  const run = async (value: number, rows: number, columns: number) => {
    const result = await pool.run(
      {
        x: new ort.Tensor("float32", Float32Array.of(value), [1]),
        shape: new ort.Tensor("int64", BigInt64Array.of(BigInt(rows), BigInt(columns)), [2]),
      },
      false,
    );
    const answer = plain(result.outputs);
    result.release();
    return { ...answer, copiedBytes: result.copiedBytes };
  };
  // copied: x (4 bytes) and shape (16) into the arena, a lone request's; y (4 per value) unless ONNX Runtime wrote it
  const y = (dims: [number, number], v: number) => ({ dims, data: Array(dims[0] * dims[1]).fill(v) });
  assert.deepEqual(await run(1, 2, 3), { y: y([2, 3], 1), copiedBytes: 4 + 16 + 24 });
  // same input shapes, so [2, 3] is guessed; ONNX Runtime refuses it and the run is made again without
  assert.deepEqual(await run(2, 3, 1), { y: y([3, 1], 2), copiedBytes: 4 + 16 + 12 });
  // [2, 3] again would now be guessed right: not guessed at all any more
  assert.deepEqual(await run(3, 2, 3), { y: y([2, 3], 3), copiedBytes: 4 + 16 + 24 });
});

test("shared memory: a merged batch's answers stay held until every request of it has released its part, or timed out", {
  skip,
}, async () => {
  const pool = new WorkerPool({
    init: await initFor("add-one", addOneSpec),
    isolation: "process",
    onIdle: () => batcher.schedule(),
  });
  const options = {
    model: "add-one",
    maxBatchSize: 8,
    maxQueueDelayMs: 50,
    maxConcurrency: 8,
    timeoutMs: 30_000,
  };
  const batcher = new DynamicBatcher(pool, options);
  batcher.batchable = true;
  await pool.start();
  after(() => pool.close());
  const x = (seed: number, rows = 2) => ({
    x: new ort.Tensor(
      "float32",
      Float32Array.from({ length: rows * 4 }, (_, i) => seed * 100 + i),
      [rows, 4],
    ),
  });
  const [first, second] = await Promise.all([batcher.infer(x(1)), batcher.infer(x(2))]);
  assert.ok(first && second && first.batchRows === 4, "one batch of both");
  assert.deepEqual(
    plain(first.outputs).y?.data,
    Array.from({ length: 8 }, (_, i) => 100 + i + 1),
  );
  const held = pool.heldArenaBytes;
  assert.ok(held > 0);
  first.release();
  first.release();
  assert.equal(pool.heldArenaBytes, held, "the other request still reads its part");
  assert.deepEqual(
    plain(second.outputs).y?.data,
    Array.from({ length: 8 }, (_, i) => 200 + i + 1),
  );
  second.release();
  assert.equal(pool.heldArenaBytes, 0);

  // requests past their deadline when their batch comes back: nobody reads it, so nothing stays held
  const slowPool = new WorkerPool({
    init: await initFor("slow-held", slowModelSpec(96, 4096)),
    isolation: "process",
    onIdle: () => impatient.schedule(),
  });
  // both merged after 5 ms, then given up on at 60 ms while their batch runs (~1 s)
  const impatient = new DynamicBatcher(slowPool, {
    ...options,
    model: "slow-held",
    maxQueueDelayMs: 5,
    timeoutMs: 60,
  });
  impatient.batchable = true;
  await slowPool.start();
  after(() => slowPool.close());
  const row = () => ({ x: new ort.Tensor("float32", new Float32Array(256).fill(1), [1, 256]) });
  const late = await Promise.allSettled([impatient.infer(row()), impatient.infer(row())]);
  assert.deepEqual(
    late.map((r) => r.status === "rejected" && (r.reason as Error).name),
    ["DeadlineError", "DeadlineError"],
  );
  assert.equal(slowPool.busyCount, 1, "their batch still runs");
  await until(async () => slowPool.busyCount === 0, "the late batch to come back");
  assert.equal(slowPool.heldArenaBytes, 0);
});
