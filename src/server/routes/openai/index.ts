import type { FastifyInstance } from "fastify";
import { registerOpenAiErrors } from "../../openai-error.js";
import type { ServerContext } from "../../server-context.js";
import { registerEmbeddingRoutes } from "./embeddings.js";
import { registerGenerationRoutes } from "./generation.js";
import { registerModelRoutes } from "./models.js";
import { registerRerankRoutes } from "./rerank.js";

/**
 * The OpenAI-compatible API under /v1: a translation of OpenAI's requests into the same model calls the gpux
 * API makes, with every error (its own, the API key check's, unknown /v1 paths) in OpenAI's shape.
 */
export function registerOpenAiRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.register(
    async (scope) => {
      registerOpenAiErrors(scope);
      registerModelRoutes(scope, ctx);
      registerEmbeddingRoutes(scope, ctx);
      registerRerankRoutes(scope, ctx);
      registerGenerationRoutes(scope, ctx);
    },
    { prefix: "/v1" },
  );
}
