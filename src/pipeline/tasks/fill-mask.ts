import { UserError } from "../../util/errors.js";
import type { Pipeline } from "../pipeline.js";
import { floatOutput, row, softmax } from "../postprocess/scores.js";
import { loadTokenizer } from "../text/load-tokenizer.js";
import { answerFor, prepareText, type TextState } from "../text/prepare-text.js";
import { readTopK } from "../text/read-text-request.js";

export interface MaskFill {
  score: number;
  token: number;
  token_str: string;
  sequence: string;
}

/**
 * fill-mask: `{"text": "Paris is the [MASK] of France."[, "top_k": 5]}` → the top_k fillers
 * `{"score", "token", "token_str", "sequence"}`; with several masks, one such list per mask.
 */
export const fillMaskPipeline: Pipeline<TextState> = {
  task: "fill-mask",
  load(context) {
    loadTokenizer(context);
  },
  async preprocess(request, context) {
    const tokenizer = loadTokenizer(context);
    const prepared = await prepareText(request, context, tokenizer, { options: ["top_k"] });
    readTopK(prepared.state.request.body, undefined);
    const maskId = tokenizer.maskToken === undefined ? undefined : tokenizer.tokenToId(tokenizer.maskToken);
    prepared.state.encodings.forEach((encoding, i) => {
      if (maskId === undefined || !encoding.ids.includes(maskId)) {
        throw new UserError(`Text ${i} has no mask token ${tokenizer.maskToken ?? ""} to fill.`, {
          hint: `Write ${tokenizer.maskToken ?? "the mask token"} where a word should be predicted.`,
        });
      }
    });
    return prepared;
  },
  postprocess(outputs, prepared, context) {
    const { tokenizer, encodings, request } = prepared.state;
    const topK = readTopK(request.body, context.config.postprocessing?.top_k ?? 5) as number;
    const maskId = tokenizer.tokenToId(tokenizer.maskToken as string);
    const { data, dims } = floatOutput(outputs, context.outputs[0]?.name);
    const sequence = dims[1] as number;
    const vocab = dims[2] as number;
    const answers = encodings.map((encoding, r) => {
      const masks = encoding.ids.flatMap((id, i) => (id === maskId ? [i] : []));
      const perMask = masks.map((position) => {
        const probs = softmax(row(data, (r * sequence + position) * vocab, vocab));
        const order = probs.map((_, i) => i).sort((a, b) => (probs[b] as number) - (probs[a] as number));
        return order.slice(0, topK).map((id): MaskFill => {
          const ids = encoding.ids.map((x, i) => (i === position ? id : x));
          // as transformers: a filler that is a special token ([UNK]) is named; with several masks the
          // sequence keeps the special tokens, so the other masks stay visible
          return {
            score: probs[id] as number,
            token: id,
            token_str: tokenizer.decode([id], { skipSpecialTokens: false }),
            sequence: tokenizer.decode(ids, { skipSpecialTokens: masks.length === 1 }),
          };
        });
      });
      return masks.length === 1 ? perMask[0] : perMask;
    });
    return answerFor(prepared.state, answers);
  },
};
