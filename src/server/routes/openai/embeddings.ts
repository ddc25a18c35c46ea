import type { FastifyInstance } from "fastify";
import type { ServedModel } from "../../../engine/served-model.js";
import { loadTokenizer } from "../../../pipeline/text/load-tokenizer.js";
import { maxBatchItems } from "../../../pipeline/text/read-text-request.js";
import { maxLengthFor } from "../../../pipeline/text/text-feeds.js";
import { OpenAiRequestError } from "../../openai-error.js";
import type { ServerContext } from "../../server-context.js";
import { embeddingToBase64, truncateEmbedding } from "./embedding-vectors.js";
import {
  checkKnownFields,
  readBody,
  readNumber,
  readString,
  requireField,
  requireString,
} from "./read-fields.js";
import { modelFor } from "./served-models.js";

/** Tasks whose pipeline answers `{"embedding": [...]}` for a text. */
export const embeddingTasks: ReadonlySet<string> = new Set(["feature-extraction", "sentence-similarity"]);
/** Most inputs in one request, as OpenAI's API allows. */
export const maxEmbeddingInputs = 2048;

const isTokenIds = (value: unknown): value is number[] =>
  Array.isArray(value) && value.length > 0 && value.every((id) => Number.isInteger(id) && id >= 0);

/**
 * `input`: a string, a list of strings, a list of token ids, or a list of such lists. Token ids are this
 * model's tokenizer ids; they are decoded to text (special tokens dropped) and embedded like text, so the
 * tokenizer adds the special tokens the model was trained with.
 */
function readInput(value: unknown, model: ServedModel): string[] {
  const invalid = () =>
    new OpenAiRequestError(
      "'input' must be a string, a list of strings, a list of token ids, or a list of token-id lists.",
      { param: "input", code: "invalid_type" },
    );
  let items: Array<string | number[]>;
  if (typeof value === "string") items = [value];
  else if (isTokenIds(value)) items = [value];
  else if (Array.isArray(value) && value.length > 0) {
    if (!value.every((item) => typeof item === "string" || isTokenIds(item))) throw invalid();
    items = value as Array<string | number[]>;
  } else if (Array.isArray(value)) {
    throw new OpenAiRequestError("'input' is an empty list.", { param: "input", code: "invalid_value" });
  } else throw invalid();
  if (items.length > maxEmbeddingInputs) {
    throw new OpenAiRequestError(`'input' holds ${items.length} items; at most ${maxEmbeddingInputs}.`, {
      param: "input",
      code: "invalid_value",
      hint: "Send several smaller requests.",
    });
  }
  const tokenizer = items.some((item) => typeof item !== "string") ? loadTokenizer(model.context) : undefined;
  return items.map((item, i) => {
    const text = typeof item === "string" ? item : (tokenizer?.decode(item) ?? "");
    if (text.trim().length === 0) {
      throw new OpenAiRequestError(`'input[${i}]' is empty.`, { param: "input", code: "invalid_value" });
    }
    return text;
  });
}

/** One vector per text through the model's pipeline, in batches the pipeline accepts. */
async function embed(model: ServedModel, texts: string[]): Promise<number[][]> {
  const vectors: number[][] = [];
  for (let start = 0; start < texts.length; start += maxBatchItems) {
    const { result } = await model.predict({ text: texts.slice(start, start + maxBatchItems) });
    for (const answer of result as Array<{ embedding: unknown }>) {
      const vector = answer.embedding;
      if (!Array.isArray(vector) || !vector.every((v) => typeof v === "number")) {
        throw new OpenAiRequestError(
          `The model '${model.name}' answers one vector per token (gpux.yml postprocessing.pooling: none); /v1/embeddings needs one per input.`,
          { param: "model", code: "model_not_supported", hint: "Set pooling to mean or cls in gpux.yml." },
        );
      }
      vectors.push(vector);
    }
  }
  return vectors;
}

/** The tokens each text is fed as (special tokens included, truncated as the pipeline truncates). */
function countTokens(model: ServedModel, texts: string[]): number {
  const tokenizer = loadTokenizer(model.context);
  const maxLength = maxLengthFor(model.context, tokenizer);
  return texts.reduce((sum, text) => sum + tokenizer.encode(text, undefined, { maxLength }).ids.length, 0);
}

/** POST /v1/embeddings for feature-extraction models. */
export function registerEmbeddingRoutes(scope: FastifyInstance, ctx: ServerContext): void {
  scope.post(
    "/embeddings",
    {
      schema: {
        summary: "OpenAI embeddings: input as text(s) or token ids; encoding_format float|base64; dimensions",
        tags: ["OpenAI-compatible"],
      },
    },
    async (request) => {
      const body = readBody(request.body);
      checkKnownFields(body, ["model", "input", "encoding_format", "dimensions"], ["user"]);
      const name = requireString(body, "model");
      const input = requireField(body, "input");
      const format = readString(body, "encoding_format") ?? "float";
      if (format !== "float" && format !== "base64") {
        throw new OpenAiRequestError(`'encoding_format' must be 'float' or 'base64', got '${format}'.`, {
          param: "encoding_format",
          code: "invalid_value",
        });
      }
      const dimensions = readNumber(body, "dimensions", { min: 1, integer: true });
      const model = modelFor(ctx, name, "/v1/embeddings", embeddingTasks, "an embedding model");
      const texts = readInput(input, model);
      // shaped inside the measured call, so a refused `dimensions` counts as the failed request it is
      const vectors = await ctx.measure(model, async () =>
        (await embed(model, texts)).map((v) =>
          dimensions === undefined ? v : truncateEmbedding(v, dimensions),
        ),
      );
      const tokens = countTokens(model, texts);
      return {
        object: "list",
        data: vectors.map((vector, index) => ({
          object: "embedding",
          index,
          embedding: format === "base64" ? embeddingToBase64(vector) : vector,
        })),
        model: model.name,
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      };
    },
  );
}
