import type { TextItem } from "./read-text-request.js";
import type { Encoding } from "./special-tokens.js";
import type { EncodeOptions, TextTokenizer } from "./text-tokenizer.js";

/**
 * Characters tokenized between two yields to the event loop. Tokenizing runs on the HTTP thread: a 6 MB
 * request of long texts held /health for 4.3 s in one piece. Yielding after every ~8 000 characters keeps
 * probes answered between texts, and a single short text never yields (no cost on the common path).
 */
const charactersPerSlice = 8_000;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Tokenize items in order, letting other requests and probes run between slices of the work. */
export async function encodeInSlices(
  tokenizer: TextTokenizer,
  items: readonly TextItem[],
  options: EncodeOptions,
): Promise<Encoding[]> {
  const encodings: Encoding[] = [];
  let sinceYield = 0;
  for (const item of items) {
    encodings.push(tokenizer.encode(item.text, item.pair, options));
    sinceYield += item.text.length + (item.pair?.length ?? 0);
    if (sinceYield >= charactersPerSlice) {
      sinceYield = 0;
      await yieldToEventLoop();
    }
  }
  return encodings;
}
