/**
 * Entry point of a text-generation model's worker (a child process, or a thread with --isolation thread): its
 * session, generator and scheduler live here, because onnxruntime-node's `session.run` blocks the thread it
 * is called on for the whole forward pass (its async run is a setImmediate around a synchronous call), and
 * tokenizing, rendering templates and sampling run here too. The server only relays requests and events, so
 * /health stays fast; as a process, a native abort inside ONNX Runtime ends only this worker, which the
 * server restarts (served-generation.ts).
 */

import { setPriority } from "node:os";
import { GenerationScheduler } from "./generation/generation-scheduler.js";
import type { GenerationEvent } from "./generation/generator.js";
import { loadGenerator } from "./generation/load-generator.js";
import type {
  FromGenerationWorker,
  GenerationWorkerInit,
  ToGenerationWorker,
} from "./generation-protocol.js";
import { Model } from "./model.js";
import { wireError } from "./serving-errors.js";
import { openWorkerPort } from "./worker-port.js";

const port = await openWorkerPort<GenerationWorkerInit, FromGenerationWorker, ToGenerationWorker>();
const init = port.init;

const post = (message: FromGenerationWorker) => port.post(message, []);

async function start(): Promise<void> {
  // as in inference-worker.ts: this thread and ONNX Runtime's pool threads, created below, yield the CPU
  // to the HTTP event loop
  if (init.nice) {
    try {
      setPriority(0, init.nice);
    } catch {
      // not permitted here (some containers): run at normal priority
    }
  }
  let model: Model;
  let scheduler: GenerationScheduler;
  const warmStart = performance.now();
  try {
    model = await Model.load(init.loaded, { provider: init.provider, origin: "http" });
    const generator = loadGenerator(model);
    scheduler = new GenerationScheduler(generator, init.limits);
    // a short generation, so the first request does not pay for ONNX Runtime's first runs
    for await (const _event of generator.generate({ prompt: "Hello" }, { maxTokens: 2, temperature: 0 })) {
      // only the runs matter
    }
  } catch (error) {
    post({ kind: "load-error", error: wireError(error) });
    port.close();
    return;
  }
  const { inputs, outputs, provider, attempts } = model;
  post({ kind: "ready", inputs, outputs, provider, attempts, warmupMs: performance.now() - warmStart });

  const counts = () => ({ running: scheduler.running, waiting: scheduler.waiting });
  const sequences = new Map<number, AbortController>();
  // The done event goes out once the sequence's generator has returned, so its slot is free (and the counts
  // sent with it are current) by the time the main thread answers the request.
  const run = async (id: number, events: AsyncGenerator<GenerationEvent>) => {
    let done: GenerationEvent | undefined;
    try {
      for await (const event of events) {
        if (event.type === "done") done = event;
        else post({ kind: "event", id, event, ...counts() });
      }
      if (done) post({ kind: "event", id, event: done, ...counts() });
    } catch (error) {
      post({ kind: "error", id, error: wireError(error), ...counts() });
    } finally {
      sequences.delete(id);
      if (!done) post({ kind: "counts", ...counts() });
    }
  };
  port.onMessage(async (message: ToGenerationWorker) => {
    if (message.kind === "submit") {
      const controller = new AbortController();
      sequences.set(message.id, controller);
      let events: AsyncGenerator<GenerationEvent>;
      try {
        events = scheduler.submit({
          input: message.input,
          sampling: message.sampling,
          signal: controller.signal,
        });
      } catch (error) {
        sequences.delete(message.id);
        post({ kind: "error", id: message.id, error: wireError(error), ...counts() });
        return;
      }
      void run(message.id, events);
      post({ kind: "counts", ...counts() });
    } else if (message.kind === "abort") {
      sequences.get(message.id)?.abort(new Error("the client closed the connection"));
    } else {
      if (message.abandon)
        for (const controller of sequences.values()) controller.abort(new Error("shutdown"));
      while (sequences.size > 0) await new Promise((resolve) => setTimeout(resolve, 20));
      await model.dispose();
      port.close();
    }
  });
}

await start();
