import type { LoadedConfig } from "../config/load-config.js";
import type { TextItem } from "../pipeline/text/read-text-request.js";
import type { Encoding } from "../pipeline/text/special-tokens.js";
import type { EncodeOptions } from "../pipeline/text/text-tokenizer.js";
import type { WireError } from "./worker-protocol.js";

/** What a tokenizer thread (tokenizer-worker.ts) is started with: the model whose tokenizer it loads. */
export interface TokenizerWorkerInit {
  loaded: LoadedConfig;
}

export interface ToTokenizerWorker {
  id: number;
  items: readonly TextItem[];
  options: EncodeOptions;
}

export type FromTokenizerWorker = { id: number; encodings: Encoding[] } | { id: number; error: WireError };
