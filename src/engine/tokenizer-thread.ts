import { Worker } from "node:worker_threads";
import type { LoadedConfig } from "../config/load-config.js";
import type { TextItem } from "../pipeline/text/read-text-request.js";
import type { Encoding } from "../pipeline/text/special-tokens.js";
import type { EncodeOptions } from "../pipeline/text/text-tokenizer.js";
import { requestSignal } from "./request-scope.js";
import { RemoteError } from "./serving-errors.js";
import type { FromTokenizerWorker, TokenizerWorkerInit } from "./tokenizer-protocol.js";
import { workerEntry } from "./worker-entry.js";

interface Waiting {
  items: readonly TextItem[];
  options: EncodeOptions;
  resolve: (encodings: Encoding[]) => void;
  reject: (error: Error) => void;
}

interface Running {
  worker: Worker;
  /** Requests sent to the thread, in the order it works through them. */
  waiting: Map<number, Waiting>;
}

/**
 * A thread that tokenizes a served model's long texts, so the HTTP thread stays free: one text of 100 000
 * characters took ~0.3-1 s to tokenize here, time in which /health could not answer. Started at the first
 * long text; pure JavaScript, so ending it mid-work is safe (unlike an inference thread): a request whose
 * deadline passes (its requestSignal aborts) is dropped, and the thread replaced if it was working on it, so
 * one request of 256 texts × 100 000 characters cannot hold the thread for minutes after its 504.
 */
export class TokenizerThread {
  private running?: Running;
  private nextId = 1;

  constructor(private readonly loaded: LoadedConfig) {}

  encode(
    items: readonly TextItem[],
    options: EncodeOptions,
    signal = requestSignal.getStore(),
  ): Promise<Encoding[]> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const running = this.running ?? this.start(new Map());
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const abandon = () => this.abandon(id, signal?.reason);
      signal?.addEventListener("abort", abandon, { once: true });
      const settled = () => signal?.removeEventListener("abort", abandon);
      running.waiting.set(id, {
        items,
        options,
        resolve: (encodings) => {
          settled();
          resolve(encodings);
        },
        reject: (error) => {
          settled();
          reject(error);
        },
      });
      running.worker.postMessage({ id, items, options });
    });
  }

  /**
   * Drop a request nobody waits for. The thread works through its messages in order, so the first one waiting
   * is the one it may be tokenizing: then the thread is ended and the others are sent, in order, to a new one.
   */
  private abandon(id: number, reason: unknown) {
    const running = this.running;
    const waiting = running?.waiting.get(id);
    if (!running || !waiting) return;
    const inProgress = running.waiting.keys().next().value === id;
    running.waiting.delete(id);
    waiting.reject(reason instanceof Error ? reason : new Error("the request was abandoned"));
    if (!inProgress) return;
    this.running = undefined;
    const left = new Map(running.waiting);
    // its exit is not a failure of the requests moved to the next thread
    running.waiting.clear();
    void running.worker.terminate();
    if (left.size === 0) return;
    const next = this.start(left);
    for (const [leftId, w] of left)
      next.worker.postMessage({ id: leftId, items: w.items, options: w.options });
  }

  private start(waiting: Map<number, Waiting>): Running {
    const [entry, options] = workerEntry("tokenizer-worker");
    const init: TokenizerWorkerInit = { loaded: this.loaded };
    const worker = new Worker(entry, { ...options, workerData: init });
    // an idle tokenizer thread never keeps the process alive
    worker.unref();
    const running: Running = { worker, waiting };
    worker.on("message", (answer: FromTokenizerWorker) => {
      const waiting = running.waiting.get(answer.id);
      running.waiting.delete(answer.id);
      if (!waiting) return;
      if ("encodings" in answer) waiting.resolve(answer.encodings);
      else waiting.reject(new RemoteError(answer.error.message, answer.error.status, answer.error.hint));
    });
    // a thread that failed is replaced at the next long text; its own waiting requests get the error
    const fail = (why: string) => {
      if (this.running === running) this.running = undefined;
      for (const waiting of running.waiting.values())
        waiting.reject(new RemoteError(`The tokenizer thread ended (${why}).`, 500, "Retry the request."));
      running.waiting.clear();
    };
    worker.on("error", (error) => fail(error.message));
    worker.on("exit", (code) => fail(`exit code ${code}`));
    this.running = running;
    return running;
  }

  /** End the thread (requests still waiting for it are answered with an error). */
  async close(): Promise<void> {
    await this.running?.worker.terminate();
  }
}
