/**
 * What crash containment costs per request on top of ONNX Runtime's own session.run, at tensor sizes from
 * 16 B to 16 MiB: the same y = x + 1 model run in this process (the floor, its input array reused), on a worker thread
 * (`--isolation thread`: buffers transferred), and in a child process, the server's default, with its
 * shared arena (src/engine/shared-arena.ts: the batch built in the arena, as merged requests are; ONNX
 * Runtime writing the answer there once the shapes are known, output-shapes.ts; the answer read in place
 * until released) and without it (GPUX_SHARED_MEMORY=0: copies through the IPC pipe). Every mode goes
 * through the real WorkerPool and fills the same input each trip. Each mode is measured on its own beside
 * the floor, the two taking turns trip by trip, and shown as the median of its trips' differences from the
 * floor's trip before it (this machine's memory speed wanders by ±30 % from one second to the next). The
 * "copied" column is what the arena path copied per trip to cross (0: nothing).
 *
 *   npx tsx bench/ipc-transfer.ts [--trips 1000] [--rounds 2]
 *
 * Issue 16: containing native aborts must not cost a copy of every tensor.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import * as ort from "onnxruntime-node";
import { formatTable } from "../src/cli/format-table.js";
import { loadConfig } from "../src/config/load-config.js";
import type { ArenaAllocate } from "../src/engine/arena-space.js";
import { sharedMemory } from "../src/engine/shared-memory.js";
import { WorkerPool } from "../src/engine/worker-pool.js";
import { buildOnnxModel } from "../test/helpers/onnx-builder.js";

const { values } = parseArgs({
  options: {
    trips: { type: "string", default: "1000" },
    rounds: { type: "string", default: "2" },
  },
});
const trips = Number(values.trips);
const sizes = [16, 64 * 1024, 1024 * 1024, 16 * 1024 * 1024];

const shared = sharedMemory();
if (!shared.available) throw new Error(`shared memory is off: ${shared.why}`);

const folder = join(mkdtempSync(join(tmpdir(), "gpux-ipc-")), "plus-one");
mkdirSync(folder);
writeFileSync(
  join(folder, "model.onnx"),
  buildOnnxModel({
    inputs: [{ name: "x", dtype: "float32", shape: ["batch", "n"] }],
    outputs: [{ name: "y", dtype: "float32", shape: ["batch", "n"] }],
    nodes: [{ op: "Add", inputs: ["x", "one"], outputs: ["y"] }],
    initializers: [{ name: "one", dtype: "float32", dims: [1], values: [1] }],
  }),
);
writeFileSync(
  join(folder, "gpux.yml"),
  "name: plus-one\nmodel:\n  source: model.onnx\nruntime:\n  threads: 1\n",
);
const loaded = await loadConfig(`${folder}/gpux.yml`);

/** One trip: fill x with `value` (in room `allocate` gives, else a new array), run, check y, hand back. */
type Trip = (elements: number, value: number) => Promise<number>;

/** Median of `values`. */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * The median microseconds per trip of `bytes` bytes for the floor and for `mode`, taking turns trip by trip,
 * and the median of `mode`'s differences from the floor's trip just before it (the machine's memory speed
 * wanders; paired trips see the same), after a warm-up.
 */
async function measurePair(
  bytes: number,
  floor: Trip,
  mode: Trip,
): Promise<{ floorUs: number; overFloor: number }> {
  const count = bytes >= 1024 * 1024 ? Math.max(40, trips / 20) : trips;
  const elements = bytes / 4;
  for (let i = 0; i < 20; i++) {
    await floor(elements, i);
    await mode(elements, i);
  }
  const floorUs: number[] = [];
  const differences: number[] = [];
  for (let i = 0; i < count; i++) {
    let start = performance.now();
    await floor(elements, i);
    const floorTrip = (performance.now() - start) * 1000;
    start = performance.now();
    await mode(elements, i);
    floorUs.push(floorTrip);
    differences.push((performance.now() - start) * 1000 - floorTrip);
  }
  return { floorUs: median(floorUs), overFloor: median(differences) };
}

function input(elements: number, value: number, allocate?: ArenaAllocate): ort.Tensor {
  const data = (allocate?.(Float32Array, elements) as Float32Array | undefined) ?? new Float32Array(elements);
  data.fill(value);
  return new ort.Tensor("float32", data, [1, elements]);
}

function check(y: ort.Tensor | undefined, value: number): void {
  const data = y?.data as Float32Array | undefined;
  if (data?.[data.length - 1] !== value + 1) throw new Error(`wrong answer: ${data?.[data.length - 1]}`);
}

async function inProcess(): Promise<{ trip: Trip; close: () => Promise<void> }> {
  const session = await ort.InferenceSession.create(loaded.modelPath, { intraOpNumThreads: 1 });
  // the strongest floor: one input array per size, filled again each trip (no allocation, pages warm)
  const reused = new Map<number, ort.Tensor>();
  return {
    trip: async (elements, value) => {
      const x = reused.get(elements) ?? input(elements, value);
      reused.set(elements, x);
      (x.data as Float32Array).fill(value);
      check((await session.run({ x })).y, value);
      return 0;
    },
    close: () => session.release(),
  };
}

async function throughPool(
  isolation: "thread" | "process",
  arena: boolean,
): Promise<{ trip: Trip; close: () => Promise<void> }> {
  const before = process.env.GPUX_SHARED_MEMORY;
  process.env.GPUX_SHARED_MEMORY = arena ? "64" : "0";
  const pool = new WorkerPool({ init: { loaded }, isolation });
  await pool.start();
  if (before === undefined) delete process.env.GPUX_SHARED_MEMORY;
  else process.env.GPUX_SHARED_MEMORY = before;
  return {
    trip: async (elements, value) => {
      const result = await pool.run((allocate) => ({ x: input(elements, value, allocate) }), true);
      check(result.outputs.y, value);
      result.release();
      return result.copiedBytes;
    },
    close: () => pool.close(),
  };
}

const modes = [
  ["in process (floor)", inProcess],
  ["thread", () => throughPool("thread", false)],
  ["process, pipe", () => throughPool("process", false)],
  ["process, shared arena", () => throughPool("process", true)],
] as const;

const rows: string[][] = [];
for (let round = 0; round < Number(values.rounds); round++) {
  for (const bytes of sizes) {
    // one mode at a time beside the floor: the pipe's 16 MiB copies would slow whatever ran beside them
    const floorUs: number[] = [];
    const overFloor: number[] = [];
    let copied = 0;
    for (const [, start] of modes.slice(1)) {
      const floor = await inProcess();
      const mode = await start();
      const pair = await measurePair(bytes, floor.trip, mode.trip);
      floorUs.push(pair.floorUs);
      overFloor.push(pair.overFloor);
      copied = await mode.trip(bytes / 4, 1); // the last mode's: the arena's
      await mode.close();
      await floor.close();
    }
    const label = bytes < 1024 ? `${bytes} B` : `${bytes / 1024} KiB`;
    const signed = (v: number) => (v >= 0 ? `+${v.toFixed(0)}` : `−${(-v).toFixed(0)}`);
    rows.push([
      String(round + 1),
      label,
      median(floorUs).toFixed(0),
      ...overFloor.map(signed),
      String(copied),
    ]);
  }
}
console.log(
  formatTable(
    [
      "round",
      "tensor",
      ...modes.map(([name], i) => (i === 0 ? `${name} µs` : `${name}, µs over floor`)),
      "arena: bytes copied per trip",
    ],
    rows,
  ),
);
