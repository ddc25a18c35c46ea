/**
 * What moving a tensor to an inference worker and back costs, per round trip, for the ways crash containment
 * could cross the boundary: a worker thread (buffers transferred, the server's design now) and a child process
 * over Node's IPC channel with `serialization: "advanced"` (typed arrays structured-cloned: copied through a
 * pipe). Both echo a Float32Array of the given size; rounds alternate so both see the same machine load.
 *
 *   npx tsx bench/ipc-transfer.ts [--trips 2000] [--rounds 2]
 *
 * Issue 16: containing native aborts must not cost a copy of every tensor where it can be avoided.
 */
import { fork } from "node:child_process";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { formatTable } from "../src/cli/format-table.js";

const { values } = parseArgs({
  options: {
    trips: { type: "string", default: "2000" },
    rounds: { type: "string", default: "2" },
    child: { type: "boolean", default: false },
  },
});

if (values.child) {
  // The child end: echo every message back (a copy each way, as a process-based inference worker would pay).
  process.on("message", (message) => process.send?.(message));
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
      const child = fork(new URL(import.meta.url).pathname, ["--child"], {
        serialization: "advanced",
        execArgv: ["--import", "tsx"],
      });
      const proc = await measure(bytes, (data) => {
        const answer = new Promise<Float32Array>((resolve) =>
          child.once("message", (m) => resolve((m as { data: Float32Array }).data)),
        );
        child.send({ data });
        return answer;
      });
      child.kill();
      const label = bytes < 1024 ? `${bytes} B` : `${bytes / 1024} KiB`;
      rows.push([String(round + 1), label, thread.toFixed(1), proc.toFixed(1), (proc - thread).toFixed(1)]);
    }
  }
  console.log(formatTable(["round", "tensor", "thread µs", "child process µs", "difference µs"], rows));
}
