/**
 * Entry point of one inference worker, a thread or a child process (worker-host.ts): opens its own ONNX
 * Runtime session and runs batches the server sends, so `session.run` never blocks the HTTP event loop.
 * Outputs go back as transferred buffers (a thread), or, from a process, through the arena it shares with
 * the server: inputs are read there in place, and ONNX Runtime writes the outputs there itself whenever their
 * shapes are known from an earlier run (output-shapes.ts), else they are copied in once; without an arena,
 * through the IPC pipe.
 */

import { setPriority } from "node:os";
import { threadId } from "node:worker_threads";
import type * as ort from "onnxruntime-node";
import type { TensorMap } from "../pipeline/pipeline.js";
import type { ProviderAttempt } from "../runtime/create-session.js";
import { sessionSpecs } from "../runtime/session-io.js";
import { errorMessage } from "../util/errors.js";
import { log } from "../util/log.js";
import { ArenaCursor } from "./arena-space.js";
import { readableRunError } from "./classify-run-error.js";
import { closeModelSession, openModelSession, runModelSession } from "./model-session.js";
import { OutputShapes } from "./output-shapes.js";
import { wireError } from "./serving-errors.js";
import { warmupFeeds } from "./warmup-feeds.js";
import { arenaExtent, fromWire, toWire } from "./wire-tensor.js";
import { openWorkerPort } from "./worker-port.js";
import type { FromWorker, ToWorker } from "./worker-protocol.js";

const port = await openWorkerPort();
const init = port.init;
const arena = port.arena;

/** `transfer`: output buffers a worker thread hands over instead of copying them. */
function post(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  try {
    port.post(message, transfer);
  } catch {
    port.post(message, []); // a buffer ONNX Runtime does not let go of is copied instead
  }
}

async function start(): Promise<void> {
  const { config } = init.loaded;
  // On Linux this sets the nice value of this thread only; ONNX Runtime's pool threads, created below,
  // inherit it. The HTTP event loop then wins the CPU whenever it has work: health checks never wait.
  if (init.nice) {
    try {
      setPriority(0, init.nice);
    } catch {
      // not permitted here (some containers): run at normal priority
    }
  }
  let session: ort.InferenceSession;
  let provider: string;
  let attempts: ProviderAttempt[];
  const profileName = `profile-worker${threadId || process.pid}`;
  try {
    const handle = await openModelSession(init.loaded, {
      provider: init.provider,
      defaultThreads: init.intraOpNumThreads,
      profileName,
    });
    session = handle.session;
    provider = handle.provider;
    attempts = handle.attempts;
  } catch (error) {
    post({ kind: "load-error", error: wireError(error) });
    port.close();
    return;
  }
  const { inputs, outputs } = sessionSpecs(session);
  const warmStart = performance.now();
  let warmupError: string | undefined;
  try {
    await session.run(warmupFeeds(inputs));
  } catch (error) {
    warmupError = readableRunError(errorMessage(error));
  }
  const warmupMs = performance.now() - warmStart;
  post({ kind: "ready", inputs, outputs, provider, attempts, warmupMs, warmupError, sharedArena: !!arena });

  // Test-only fault injection (test/server/crash-containment.test.ts): die while running the Nth request, as
  // a native abort inside ONNX Runtime would, so the pool's restart and 503 answers can be seen end to end.
  const exitOnRun = Number(process.env.GPUX_TEST_WORKER_EXIT_ON_RUN ?? 0);
  let runs = 0;
  const shapes = new OutputShapes(inputs, outputs);
  port.onMessage(async (message: ToWorker) => {
    if (message.kind === "close") {
      await closeModelSession(session, init.loaded, profileName);
      port.close();
      return;
    }
    if (++runs === exitOnRun) process.exit(134);
    const begin = performance.now();
    try {
      const feeds = fromWire(message.feeds, arena);
      // after the inputs, never over them: an output may be ONNX Runtime's view of an input (Identity)
      const cursor =
        arena && message.arenaSpan
          ? new ArenaCursor(arena, {
              from: Math.max(message.arenaSpan.from, arenaExtent(message.feeds)?.to ?? 0),
              to: message.arenaSpan.to,
            })
          : undefined;
      const fetches = cursor && shapes.preallocate(feeds, cursor.allocate);
      let outputs: TensorMap;
      if (fetches) {
        try {
          await runModelSession(session, config.name, feeds, fetches);
          outputs = fetches; // what ONNX Runtime wrote into the arena (it answers with copies of them)
        } catch (error) {
          // a wrong guess fails like this; so does bad input, which fails again below the same way
          outputs = await runModelSession(session, config.name, feeds);
          shapes.stopGuessing();
          log.debug(`model '${config.name}': output shapes vary by value (${errorMessage(error)})`);
        }
      } else {
        outputs = await runModelSession(session, config.name, feeds);
        shapes.learn(feeds, outputs);
      }
      const transfer: ArrayBuffer[] = [];
      const wire = toWire(outputs, transfer, cursor);
      post(
        {
          kind: "result",
          id: message.id,
          outputs: wire,
          computeMs: performance.now() - begin,
          copiedBytes: cursor?.copiedBytes ?? 0,
        },
        transfer,
      );
    } catch (error) {
      post({ kind: "error", id: message.id, error: wireError(error) });
    }
  });
}

await start();
