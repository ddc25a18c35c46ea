/**
 * Entry point of a served text model's tokenizer thread (tokenizer-thread.ts): loads the model's tokenizer
 * the way the pipeline does, and tokenizes the long texts the HTTP thread hands it, in order.
 */

import { parentPort, workerData } from "node:worker_threads";
import { ModelFiles } from "../pipeline/model-files.js";
import { loadTokenizer } from "../pipeline/text/load-tokenizer.js";
import type { TextTokenizer } from "../pipeline/text/text-tokenizer.js";
import { wireError } from "./serving-errors.js";
import type { FromTokenizerWorker, TokenizerWorkerInit, ToTokenizerWorker } from "./tokenizer-protocol.js";

const port = parentPort;
if (!port) throw new Error("tokenizer-worker must run in a worker thread");
const { loaded } = workerData as TokenizerWorkerInit;
const context = {
  config: loaded.config,
  dir: loaded.dir,
  inputs: [],
  outputs: [],
  origin: "http" as const,
  files: new ModelFiles(loaded.dir),
};
let tokenizer: TextTokenizer | undefined;

port.on("message", ({ id, items, options }: ToTokenizerWorker) => {
  let answer: FromTokenizerWorker;
  try {
    tokenizer ??= loadTokenizer(context);
    const encoder = tokenizer;
    answer = { id, encodings: items.map((item) => encoder.encode(item.text, item.pair, options)) };
  } catch (error) {
    answer = { id, error: wireError(error) };
  }
  port.postMessage(answer);
});
