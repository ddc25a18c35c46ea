import type { PipelineContext } from "../pipeline.js";
import type { TextItem } from "./read-text-request.js";
import type { Encoding } from "./special-tokens.js";
import type { EncodeOptions, TextTokenizer } from "./text-tokenizer.js";

/**
 * Characters tokenized between two yields to the event loop, where texts are tokenized on the thread that
 * read them: a 6 MB request of long texts held /health for 4.3 s in one piece. Yielding after every ~8 000
 * characters keeps probes answered between texts, and a single short text never yields (no cost on the
 * common path). A request with more than this goes to the server's tokenizer thread when there is one: one
 * text cannot be cut between yields, and one of 100 000 characters held the HTTP thread for ~0.9 s.
 */
const charactersPerSlice = 8_000;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Tokenize items in order: a long request in the context's tokenizer thread, else here, letting other
 * requests and probes run between slices of the work.
 */
export async function encodeInSlices(
  tokenizer: TextTokenizer,
  items: readonly TextItem[],
  options: EncodeOptions,
  context?: Pick<PipelineContext, "encodeOffThread">,
): Promise<Encoding[]> {
  const characters = items.reduce((sum, item) => sum + item.text.length + (item.pair?.length ?? 0), 0);
  if (context?.encodeOffThread && characters > charactersPerSlice)
    return context.encodeOffThread(items, options);
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
