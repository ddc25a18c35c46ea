import type { Pipeline, PipelineContext, TensorMap } from "../pipeline.js";
import { floatOutput, row, softmax } from "../postprocess/scores.js";
import { loadTokenizer } from "../text/load-tokenizer.js";
import { answerFor, prepareText, type TextState } from "../text/prepare-text.js";

/** Longest answer, in tokens (transformers' default max_answer_len). */
const maxAnswerTokens = 15;

export interface Answer {
  answer: string;
  score: number;
  start: number;
  end: number;
}

function logits(outputs: TensorMap, context: PipelineContext, which: "start" | "end") {
  const names = context.outputs.map((output) => output.name);
  const name = names.find((n) => n.includes(which)) ?? names[which === "start" ? 0 : 1];
  return floatOutput(outputs, name);
}

/**
 * question-answering (extractive): `{"question": "…", "context": "…"}` (or `{"text", "text_pair"}`) →
 * `{"answer", "score", "start", "end"}`,
 * the best span of the context (start/end: character offsets into the context). Lists give a list of answers.
 */
export const questionAnsweringPipeline: Pipeline<TextState> = {
  task: "question-answering",
  load(context) {
    loadTokenizer(context);
  },
  async preprocess(request, context) {
    // {"question", "context"} as transformers names them, or {"text", "text_pair"} as for other text pairs.
    const named = !!request && typeof request === "object" && !("text" in request);
    const shape = named
      ? { first: "question", second: "context", secondRequired: true }
      : { first: "text", second: "text_pair", secondRequired: true };
    return prepareText(request, context, loadTokenizer(context), shape, "only_second");
  },
  postprocess(outputs, prepared, context) {
    const starts = logits(outputs, context, "start");
    const ends = logits(outputs, context, "end");
    const sequence = starts.dims[1] as number;
    const { request, encodings } = prepared.state;
    const answers = encodings.map((encoding, r): Answer => {
      const n = encoding.ids.length;
      // Only context tokens may start or end the answer.
      const mask = (values: number[]) => values.map((v, i) => (encoding.sequenceIds[i] === 1 ? v : -10000));
      const p = softmax(mask(row(starts.data, r * sequence, n)));
      const q = softmax(mask(row(ends.data, r * sequence, n)));
      let best = { score: -1, s: 0, e: 0 };
      for (let s = 0; s < n; s++) {
        for (let e = s; e < Math.min(n, s + maxAnswerTokens); e++) {
          const score = (p[s] as number) * (q[e] as number);
          if (score > best.score) best = { score, s, e };
        }
      }
      const chars = Array.from(request.items[r]?.pair ?? "");
      const start = (encoding.offsets[best.s] as [number, number])[0];
      const end = (encoding.offsets[best.e] as [number, number])[1];
      return { answer: chars.slice(start, end).join(""), score: best.score, start, end };
    });
    return answerFor(prepared.state, answers);
  },
};
