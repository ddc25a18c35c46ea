import { Worker } from "node:worker_threads";
import type { LoadedConfig } from "../config/load-config.js";
import type { TextItem } from "../pipeline/text/read-text-request.js";
import type { Encoding } from "../pipeline/text/special-tokens.js";
import type { EncodeOptions } from "../pipeline/text/text-tokenizer.js";
import { RemoteError } from "./serving-errors.js";
import type { FromTokenizerWorker, TokenizerWorkerInit } from "./tokenizer-protocol.js";
import { workerEntry } from "./worker-entry.js";

interface Waiting {
  resolve: (encodings: Encoding[]) => void;
  reject: (error: Error) => void;
}

/**
 * A thread that tokenizes a served model's long texts, so the HTTP thread stays free: one text of 100 000
 * characters took ~0.3-1 s to tokenize here, time in which /health could not answer. Started at the first
 * long text; pure JavaScript, so ending it mid-work is safe (unlike an inference thread).
 */
export class TokenizerThread {
  private running?: { worker: Worker; waiting: Map<number, Waiting> };
  private nextId = 1;

  constructor(private readonly loaded: LoadedConfig) {}

  encode(items: readonly TextItem[], options: EncodeOptions): Promise<Encoding[]> {
    const { worker, waiting } = this.running ?? this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      waiting.set(id, { resolve, reject });
      worker.postMessage({ id, items, options });
    });
  }

  private start(): { worker: Worker; waiting: Map<number, Waiting> } {
    const [entry, options] = workerEntry("tokenizer-worker");
    const init: TokenizerWorkerInit = { loaded: this.loaded };
    const worker = new Worker(entry, { ...options, workerData: init });
    // an idle tokenizer thread never keeps the process alive
    worker.unref();
    const running = { worker, waiting: new Map<number, Waiting>() };
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
