import type { Pipeline, PipelineContext } from "../pipeline.js";
import { floatOutput } from "../postprocess/scores.js";
import { encodeInSlices } from "../text/encode-in-slices.js";
import { loadTokenizer } from "../text/load-tokenizer.js";
import { answerFor, type TextState } from "../text/prepare-text.js";
import { readTextRequest } from "../text/read-text-request.js";
import { maxLengthFor, textFeeds } from "../text/text-feeds.js";

type Pooling = "mean" | "cls" | "max" | "none";

/** Pooling and normalisation: gpux.yml postprocessing, else the sentence-transformers files, else mean. */
function embeddingSettings(context: PipelineContext): { pooling: Pooling; normalize: boolean } {
  return context.files.once("embedding", () => readEmbeddingSettings(context));
}

function readEmbeddingSettings(context: PipelineContext): { pooling: Pooling; normalize: boolean } {
  const post = context.config.postprocessing;
  const modules = context.files.jsonValue("modules.json");
  const list = Array.isArray(modules) ? (modules as Array<{ type?: string; path?: string }>) : [];
  const poolingModule = list.find((m) => m.type?.endsWith("Pooling"));
  const poolingConfig = poolingModule ? context.files.json(`${poolingModule.path}/config.json`) : undefined;
  let pooling: Pooling = "mean";
  if (poolingConfig?.pooling_mode_cls_token) pooling = "cls";
  else if (poolingConfig?.pooling_mode_max_tokens) pooling = "max";
  return {
    pooling: post?.pooling ?? pooling,
    normalize: post?.normalize ?? list.some((m) => m.type?.endsWith("Normalize")),
  };
}

/** Cosine similarity of two vectors (0 for a zero vector). */
export function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += (a[i] as number) * (b[i] as number);
    na += (a[i] as number) ** 2;
    nb += (b[i] as number) ** 2;
  }
  return dot / Math.max(Math.sqrt(na * nb), 1e-12);
}

function l2normalize(values: number[]): number[] {
  const norm = Math.sqrt(values.reduce((s, v) => s + v * v, 0));
  return norm > 0 ? values.map((v) => v / Math.max(norm, 1e-12)) : values;
}

/**
 * feature-extraction and sentence-similarity: `{"text": "…"}` → `{"embedding": [...]}` (mean or CLS pooling
 * over the tokens, optionally L2-normalised); with pooling "none", `{"embedding": [[...] per token]}`.
 * `{"text": "…", "text_pair": "…"}` answers `{"score": cosine similarity}` of the two texts' embeddings.
 */
export const embeddingPipeline: Pipeline<TextState> = {
  task: "feature-extraction",
  load(context) {
    embeddingSettings(context);
    loadTokenizer(context);
  },
  async preprocess(request, context) {
    const tokenizer = loadTokenizer(context);
    // The two texts of a pair are embedded separately, in one batch, then compared.
    const parsed = readTextRequest(request);
    const maxLength = maxLengthFor(context, tokenizer);
    const texts = parsed.items.flatMap((item) =>
      item.pair === undefined ? [item.text] : [item.text, item.pair],
    );
    const encodings = await encodeInSlices(
      tokenizer,
      texts.map((text) => ({ text })),
      { maxLength },
      context,
    );
    return textFeeds(encodings, tokenizer, context, { request: parsed, encodings, tokenizer });
  },
  postprocess(outputs, prepared, context) {
    const { pooling, normalize } = embeddingSettings(context);
    const names = context.outputs.map((o) => o.name);
    const name = names.find((n) => n === "last_hidden_state" || n === "token_embeddings") ?? names[0];
    const { data, dims } = floatOutput(outputs, name);
    const answers = prepared.state.encodings.map((encoding, r) => {
      if (dims.length === 2) {
        const width = dims[1] as number;
        const vector = Array.from({ length: width }, (_, k) => data[r * width + k] as number);
        return { embedding: normalize ? l2normalize(vector) : vector };
      }
      const sequence = dims[1] as number;
      const width = dims[2] as number;
      const n = encoding.ids.length;
      const token = (i: number) =>
        Array.from({ length: width }, (_, k) => data[(r * sequence + i) * width + k] as number);
      if (pooling === "none") return { embedding: Array.from({ length: n }, (_, i) => token(i)) };
      let vector: number[];
      if (pooling === "cls") vector = token(0);
      else {
        vector = new Array<number>(width).fill(pooling === "max" ? Number.NEGATIVE_INFINITY : 0);
        for (let i = 0; i < n; i++) {
          const t = token(i);
          for (let k = 0; k < width; k++)
            vector[k] =
              pooling === "max"
                ? Math.max(vector[k] as number, t[k] as number)
                : (vector[k] as number) + (t[k] as number);
        }
        if (pooling === "mean") vector = vector.map((v) => v / n);
      }
      return { embedding: normalize ? l2normalize(vector) : vector };
    });
    if (prepared.state.request.items[0]?.pair === undefined) return answerFor(prepared.state, answers);
    const scores = prepared.state.request.items.map((_, i) => ({
      score: cosine(
        (answers[2 * i] as { embedding: number[] }).embedding,
        (answers[2 * i + 1] as { embedding: number[] }).embedding,
      ),
    }));
    return answerFor(prepared.state, scores);
  },
};
