/**
 * What moving a tensor to an inference worker and back costs, per round trip, for the ways crash containment
 * could cross the boundary: a worker thread (buffers transferred, `--isolation thread`), a child process over
 * Node's IPC channel with `serialization: "advanced"` (typed arrays structured-cloned: copied through a pipe),
 * and a child process whose tensors go through a tensor file on tmpfs (bench/tensor-file.ts: the message
 * carries only offsets; measured, not adopted by the server). Each echoes a
 * Float32Array of the given size; rounds alternate so all see the same machine load.
 *
 *   npx tsx bench/ipc-transfer.ts [--trips 2000] [--rounds 2]
 *
 * Issue 16: containing native aborts must not cost a copy of every tensor through the pipe.
 */
import { fork } from "node:child_process";
import { closeSync } from "node:fs";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { formatTable } from "../src/cli/format-table.js";
import type { WireTensorMap } from "../src/engine/wire-tensor.js";
import { type MessageTensorMap, openTensorFile, TensorFileWriter, takeTensors } from "./tensor-file.js";

const { values } = parseArgs({
  options: {
    trips: { type: "string", default: "2000" },
    rounds: { type: "string", default: "2" },
    child: { type: "string" },
  },
});

// The tensor files a "file" child is given, at these descriptor numbers (fork's stdio beyond the IPC channel).
const toChildFd = 4;
const fromChildFd = 5;

if (values.child === "pipe") {
  // The child end: echo every message back (a copy each way, as a process-based inference worker would pay).
  process.on("message", (message) => process.send?.(message));
} else if (values.child === "file") {
  // The same through tensor files: read the tensor from one file, write it to the other, as a worker would.
  const writer = new TensorFileWriter(fromChildFd);
  process.on("message", (message: { tensors: MessageTensorMap }) => {
    process.send?.({ tensors: writer.put(takeTensors(toChildFd, message.tensors), 0) });
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

  async function throughFile(bytes: number): Promise<number> {
    const toChild = openTensorFile();
    const fromChild = openTensorFile();
    const child = fork(childPath, ["--child", "file"], {
      serialization: "advanced",
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc", toChild, fromChild],
    });
    const writer = new TensorFileWriter(toChild);
    const us = await measure(bytes, (data) => {
      const answer = new Promise<Float32Array>((resolve) =>
        child.once("message", (m) => {
          const back = takeTensors(fromChild, (m as { tensors: MessageTensorMap }).tensors);
          resolve(back.x?.data as Float32Array);
        }),
      );
      const tensors: WireTensorMap = { x: { type: "float32", dims: [data.length], data } };
      child.send({ tensors: writer.put(tensors, 0) });
      return answer;
    });
    child.kill();
    closeSync(toChild);
    closeSync(fromChild);
    return us;
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
      const pipe = await throughPipe(bytes);
      const file = await throughFile(bytes);
      const label = bytes < 1024 ? `${bytes} B` : `${bytes / 1024} KiB`;
      rows.push([
        String(round + 1),
        label,
        thread.toFixed(1),
        pipe.toFixed(1),
        file.toFixed(1),
        (pipe / file).toFixed(2),
      ]);
    }
  }
  console.log(
    formatTable(
      ["round", "tensor", "thread µs", "process, pipe µs", "process, tensor file µs", "pipe / file"],
      rows,
    ),
  );
}
