import type { FastifyInstance } from "fastify";
import { openBatchParts } from "../../openai-batch/openai-batch.js";
import { registerOpenAiErrors } from "../../openai-error.js";
import type { ServerContext } from "../../server-context.js";
import { registerBatchRoutes } from "./batches.js";
import { registerEmbeddingRoutes } from "./embeddings.js";
import { registerFileRoutes } from "./files.js";
import { registerGenerationRoutes } from "./generation.js";
import { registerModelRoutes } from "./models.js";
import { registerRerankRoutes } from "./rerank.js";

/**
 * The OpenAI-compatible API under /v1: a translation of OpenAI's requests into the same model calls the gpux
 * API makes, with every error (its own, the API key check's, unknown /v1 paths) in OpenAI's shape. The Batch
 * API (files and batches) keeps its state under `batch.dir`.
 */
export function registerOpenAiRoutes(
  app: FastifyInstance,
  ctx: ServerContext,
  batch: { dir: string; apiKey?: string },
): void {
  app.register(
    async (scope) => {
      registerOpenAiErrors(scope, ctx.limits);
      registerModelRoutes(scope, ctx);
      registerEmbeddingRoutes(scope, ctx);
      registerRerankRoutes(scope, ctx);
      registerGenerationRoutes(scope, ctx);
      const parts = openBatchParts(scope, ctx, batch.dir, batch.apiKey);
      registerFileRoutes(scope, parts.files);
      registerBatchRoutes(scope, parts);
    },
    { prefix: "/v1" },
  );
}
