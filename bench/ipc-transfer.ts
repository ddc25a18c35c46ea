/**
 * What moving a tensor to an inference worker and back costs, per round trip, for the ways crash containment
 * could cross the boundary: a worker thread (buffers transferred, `--isolation thread`), a child process over
 * Node's IPC channel with `serialization: "advanced"` (typed arrays structured-cloned: copied through a pipe),
 * and a child process that shares an arena with its parent (src/engine/shared-arena.ts, the native addon:
 * what the server does by default; the message carries only offsets, each side copies the tensor once, as
 * the server and its inference process do). Each echoes a Float32Array of the given size; rounds alternate
 * so all see the same machine load.
 *
 *   npx tsx bench/ipc-transfer.ts [--trips 2000] [--rounds 2]
 *
 * Issue 16: containing native aborts must not cost a copy of every tensor through the pipe.
 */
import { fork } from "node:child_process";
import { closeSync } from "node:fs";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import * as ort from "onnxruntime-node";
import { formatTable } from "../src/cli/format-table.js";
import { childArenaFd, createArena, mapChildArena } from "../src/engine/shared-arena.js";
import { sharedMemory } from "../src/engine/shared-memory.js";
import { arenaEnd, fromWire, toWire, type WireTensorMap } from "../src/engine/wire-tensor.js";

const { values } = parseArgs({
  options: {
    trips: { type: "string", default: "2000" },
    rounds: { type: "string", default: "2" },
    child: { type: "string" },
    "arena-bytes": { type: "string" },
  },
});

if (values.child === "pipe") {
  // The child end: echo every message back (a copy each way, as a process-based inference worker would pay).
  process.on("message", (message) => process.send?.(message));
} else if (values.child === "arena") {
  // As an inference process: the input is a view of the arena, the "output" is written after it (one copy).
  const arena = mapChildArena(Number(values["arena-bytes"]));
  if (!arena) throw new Error(`could not map the arena at descriptor ${childArenaFd}`);
  process.on("message", (message: { tensors: WireTensorMap }) => {
    const echoed = fromWire(message.tensors, arena);
    process.send?.({ tensors: toWire(echoed, undefined, arena, arenaEnd(message.tensors)) });
  });
} else {
  const trips = Number(values.trips);
  const sizes = [16, 64 * 1024, 1024 * 1024, 16 * 1024 * 1024];

  const echoThread = () =>
    new Worker(
      `const { parentPort } = require("node:worker_threads");
       parentPort.on("message", (m) => parentPort.postMessage(m, [m.data.buffer]));`,
      { eval: true },
    );

  /** Mean microseconds per round trip of `bytes` bytes through `send`, after a warm-up. */
  async function measure(bytes: number, roundTrip: (data: Float32Array) => Promise<Float32Array>) {
    const count = bytes >= 1024 * 1024 ? Math.max(20, trips / 50) : trips;
    let data: Float32Array = new Float32Array(bytes / 4);
    for (let i = 0; i < 20; i++) data = await roundTrip(data);
    const start = performance.now();
    for (let i = 0; i < count; i++) data = await roundTrip(data);
    return ((performance.now() - start) / count) * 1000;
  }

  const childPath = new URL(import.meta.url).pathname;
  async function throughPipe(bytes: number): Promise<number> {
    const child = fork(childPath, ["--child", "pipe"], {
      serialization: "advanced",
      execArgv: ["--import", "tsx"],
    });
    const us = await measure(bytes, (data) => {
      const answer = new Promise<Float32Array>((resolve) =>
        child.once("message", (m) => resolve((m as { data: Float32Array }).data)),
      );
      child.send({ data });
      return answer;
    });
    child.kill();
    return us;
  }

  /** As worker-host.ts and worker-pool.ts: input copied into the arena, the answer copied out of it. */
  async function throughArena(bytes: number): Promise<number> {
    const arena = createArena();
    if (!arena) throw new Error("no shared arena: build the addon (node scripts/build-native.mjs)");
    const child = fork(childPath, ["--child", "arena", "--arena-bytes", String(arena.buffer.byteLength)], {
      serialization: "advanced",
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc", arena.fd],
    });
    closeSync(arena.fd); // the child has its own; the mapping stays
    const us = await measure(bytes, (data) => {
      const answer = new Promise<Float32Array>((resolve) =>
        child.once("message", (m) => {
          const back = fromWire((m as { tensors: WireTensorMap }).tensors, arena.buffer, true);
          resolve(back.x?.data as Float32Array);
        }),
      );
      const x = new ort.Tensor("float32", data, [data.length]);
      child.send({ tensors: toWire({ x }, undefined, arena.buffer) });
      return answer;
    });
    child.kill();
    return us;
  }

  const shared = sharedMemory();
  if (!shared.available) throw new Error(`shared memory is off: ${shared.why}`);

  const rows: string[][] = [];
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const bytes of sizes) {
      const worker = echoThread();
      const thread = await measure(bytes, (data) => {
        const answer = new Promise<Float32Array>((resolve) =>
          worker.once("message", (m: { data: Float32Array }) => resolve(m.data)),
        );
        worker.postMessage({ data }, [data.buffer as ArrayBuffer]);
        return answer;
      });
      await worker.terminate();
      const pipe = await throughPipe(bytes);
      const arena = await throughArena(bytes);
      const label = bytes < 1024 ? `${bytes} B` : `${bytes / 1024} KiB`;
      rows.push([
        String(round + 1),
        label,
        thread.toFixed(1),
        pipe.toFixed(1),
        arena.toFixed(1),
        (pipe / arena).toFixed(2),
      ]);
    }
  }
  console.log(
    formatTable(
      ["round", "tensor", "thread µs", "process, pipe µs", "process, shared arena µs", "pipe / arena"],
      rows,
    ),
  );
}
