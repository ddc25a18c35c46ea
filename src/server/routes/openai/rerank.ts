import { randomUUID } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type { ServedModel } from "../../../engine/served-model.js";
import { loadTokenizer } from "../../../pipeline/text/load-tokenizer.js";
import { maxBatchItems } from "../../../pipeline/text/read-text-request.js";
import { maxLengthFor } from "../../../pipeline/text/text-feeds.js";
import { OpenAiRequestError } from "../../openai-error.js";
import type { ServerContext } from "../../server-context.js";
import {
  checkKnownFields,
  readBody,
  readBoolean,
  readNumber,
  requireField,
  requireString,
} from "./read-fields.js";
import { modelFor } from "./served-models.js";

/** Cross-encoders are text-classification models scoring a (query, document) pair. */
const rerankTasks: ReadonlySet<string> = new Set(["text-classification"]);
/** Most documents in one request. */
export const maxRerankDocuments = 1024;

/** `documents`: strings, or objects with a `text` field (as Jina and Cohere accept). */
function readDocuments(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new OpenAiRequestError(
      "'documents' must be a non-empty list of strings or {\"text\": …} objects.",
      {
        param: "documents",
        code: Array.isArray(value) ? "invalid_value" : "invalid_type",
      },
    );
  }
  if (value.length > maxRerankDocuments) {
    throw new OpenAiRequestError(`'documents' holds ${value.length} items; at most ${maxRerankDocuments}.`, {
      param: "documents",
      code: "invalid_value",
    });
  }
  return value.map((item, i) => {
    const text = typeof item === "object" && item !== null ? (item as { text?: unknown }).text : item;
    if (typeof text !== "string") {
      throw new OpenAiRequestError(`'documents[${i}]' must be a string or {"text": "…"}.`, {
        param: "documents",
        code: "invalid_type",
      });
    }
    if (text.trim().length === 0) {
      throw new OpenAiRequestError(`'documents[${i}]' is empty.`, {
        param: "documents",
        code: "invalid_value",
      });
    }
    return text;
  });
}

/** The cross-encoder must give one score per pair; a classifier with several labels does not rank. */
function checkOneScore(model: ServedModel): void {
  const width = model.outputs[0]?.shape?.at(-1);
  if (typeof width === "number" && width !== 1) {
    throw new OpenAiRequestError(
      `The model '${model.name}' gives ${width} label scores per pair; /v1/rerank needs a cross-encoder with one relevance score (num_labels=1).`,
      { param: "model", code: "model_not_supported" },
    );
  }
}

/**
 * Relevance of each document: the pipeline's score for the pair, which for one label is sigmoid(logit), as
 * sentence-transformers' CrossEncoder.predict returns by default (gpux.yml postprocessing.function: none
 * gives the raw logit instead).
 */
async function score(model: ServedModel, query: string, documents: string[]): Promise<number[]> {
  checkOneScore(model);
  const scores: number[] = [];
  for (let start = 0; start < documents.length; start += maxBatchItems) {
    const chunk = documents.slice(start, start + maxBatchItems);
    const { result } = await model.predict({ text: chunk.map(() => query), text_pair: chunk });
    for (const answer of result as Array<{ score: number }>) scores.push(answer.score);
  }
  return scores;
}

/** POST /v1/rerank: `{model, query, documents, top_n, return_documents}` → results best first. */
export function registerRerankRoutes(scope: FastifyInstance, ctx: ServerContext): void {
  scope.post(
    "/rerank",
    {
      schema: {
        summary: "Rerank documents against a query with a cross-encoder (Jina/Cohere/KServe shape)",
        tags: ["OpenAI-compatible"],
      },
    },
    async (request) => {
      const body = readBody(request.body);
      checkKnownFields(body, ["model", "query", "documents", "top_n", "return_documents"], ["user"]);
      const name = requireString(body, "model");
      const query = requireString(body, "query");
      const documents = readDocuments(requireField(body, "documents"));
      const topN = readNumber(body, "top_n", { min: 1, integer: true }) ?? documents.length;
      const returnDocuments = readBoolean(body, "return_documents") ?? false;
      const model = modelFor(ctx, name, "/v1/rerank", rerankTasks, "a cross-encoder (text-classification)");
      const scores = await ctx.measure(model, () => score(model, query, documents));
      const tokenizer = loadTokenizer(model.context);
      const maxLength = maxLengthFor(model.context, tokenizer);
      const tokens = documents.reduce(
        (sum, document) => sum + tokenizer.encode(query, document, { maxLength }).ids.length,
        0,
      );
      const results = scores
        .map((relevance_score, index) => ({
          index,
          relevance_score,
          ...(returnDocuments ? { document: { text: documents[index] as string } } : {}),
        }))
        .sort((a, b) => b.relevance_score - a.relevance_score)
        .slice(0, topN);
      return { id: `rerank-${randomUUID()}`, model: model.name, results, usage: { total_tokens: tokens } };
    },
  );
}
