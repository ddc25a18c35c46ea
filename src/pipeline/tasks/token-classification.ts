import { UserError } from "../../util/errors.js";
import type { Pipeline } from "../pipeline.js";
import { type AggregationStrategy, groupTokens, type TokenScores } from "../postprocess/group-entities.js";
import { labelsFor } from "../postprocess/labels.js";
import { floatOutput, row, softmax } from "../postprocess/scores.js";
import { loadTokenizer } from "../text/load-tokenizer.js";
import { answerFor, prepareText, type TextState } from "../text/prepare-text.js";

const strategies: readonly AggregationStrategy[] = ["none", "simple", "first", "average", "max"];

function strategyOf(
  body: Record<string, unknown>,
  fallback: AggregationStrategy | undefined,
): AggregationStrategy {
  const value = body.aggregation_strategy ?? fallback ?? "simple";
  if (!strategies.includes(value as AggregationStrategy)) {
    throw new UserError(
      `'aggregation_strategy' must be one of ${strategies.join(", ")}, got ${JSON.stringify(value)}.`,
      { hint: "simple groups tokens into entities; none lists every token." },
    );
  }
  return value as AggregationStrategy;
}

/**
 * token-classification (NER): `{"text": "…"[, "aggregation_strategy": "simple"]}` → a list of entities
 * `{"entity_group", "score", "word", "start", "end"}` (`{"entity", "score", "index", "word", "start", "end"}`
 * per token with "none"); start/end are character offsets into the text. Label "O" is left out.
 */
export const tokenClassificationPipeline: Pipeline<TextState> = {
  task: "token-classification",
  load(context) {
    loadTokenizer(context);
    context.files.json("config.json");
  },
  async preprocess(request, context) {
    const prepared = await prepareText(request, context, loadTokenizer(context), {
      options: ["aggregation_strategy"],
    });
    strategyOf(prepared.state.request.body, context.config.postprocessing?.aggregation_strategy);
    return prepared;
  },
  postprocess(outputs, prepared, context) {
    const { request, encodings, tokenizer } = prepared.state;
    const strategy = strategyOf(request.body, context.config.postprocessing?.aggregation_strategy);
    const name = context.outputs[0]?.name;
    const { data, dims } = floatOutput(outputs, name && name in outputs ? name : undefined);
    const sequence = dims[1] as number;
    const width = dims[2] as number;
    const labels = labelsFor(context, name, width);
    const join = (words: string[]) => tokenizer.tokensToString(words);
    const answers = encodings.map((encoding, r) => {
      const chars = Array.from(request.items[r]?.text ?? "");
      const tokens: TokenScores[] = [];
      encoding.ids.forEach((id, i) => {
        if (encoding.sequenceIds[i] === null) return;
        const [start, end] = encoding.offsets[i] as [number, number];
        const ref = chars.slice(start, end).join("");
        let word = encoding.tokens[i] as string;
        let isSubword = tokenizer.hasContinuingPrefix
          ? Array.from(word).length !== end - start
          : start > 0 && !chars.slice(start - 1, start + 1).includes(" ");
        if (id === tokenizer.unkId) {
          word = ref;
          isSubword = false;
        }
        const scores = softmax(row(data, (r * sequence + i) * width, width));
        tokens.push({ word, scores, start, end, index: i, isSubword });
      });
      return groupTokens(tokens, strategy, labels, join);
    });
    return answerFor(prepared.state, answers);
  },
};
