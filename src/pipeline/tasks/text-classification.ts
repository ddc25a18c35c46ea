import type { Pipeline } from "../pipeline.js";
import { classifyRows } from "../postprocess/classify.js";
import { loadTokenizer } from "../text/load-tokenizer.js";
import { answerFor, prepareText, type TextState } from "../text/prepare-text.js";
import { readTopK } from "../text/read-text-request.js";

/**
 * text-classification: `{"text": "…"[, "text_pair": "…"][, "top_k": n]}` → `{"label", "score"}`, or a list
 * of the top_k best `{"label", "score"}` when top_k is set (request, else gpux.yml postprocessing.top_k).
 */
export const textClassificationPipeline: Pipeline<TextState> = {
  task: "text-classification",
  load(context) {
    loadTokenizer(context);
    context.files.json("config.json");
  },
  async preprocess(request, context) {
    const prepared = await prepareText(request, context, loadTokenizer(context), { options: ["top_k"] });
    readTopK(prepared.state.request.body, undefined);
    return prepared;
  },
  postprocess(outputs, prepared, context) {
    const state = prepared.state;
    const topK = readTopK(state.request.body, context.config.postprocessing?.top_k);
    const rows = classifyRows(outputs, context, state.encodings.length);
    return answerFor(
      state,
      rows.map((scores) => (topK === undefined ? scores[0] : scores.slice(0, topK))),
    );
  },
};
