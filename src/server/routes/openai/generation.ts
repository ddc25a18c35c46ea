import type { FastifyInstance } from "fastify";
import { OpenAiRequestError } from "../../openai-error.js";
import type { ServerContext } from "../../server-context.js";
import {
  type GenerationRequest,
  parseChatCompletionRequest,
  parseCompletionRequest,
} from "./generation-request.js";
import { readBody } from "./read-fields.js";
import { modelFor } from "./served-models.js";

const generationTasks: ReadonlySet<string> = new Set(["text-generation"]);

/**
 * Answer a parsed generation request. The request is validated in full first (so clients learn about a bad
 * field whatever the model), then the model is checked: today no served model can generate, so every request
 * that gets this far is refused with OpenAI's error shape; the generation engine (#12) plugs in here.
 */
function answer(ctx: ServerContext, request: GenerationRequest, route: string): never {
  const model = modelFor(ctx, request.model, route, generationTasks, "a text-generation model");
  throw new OpenAiRequestError(
    `The model '${model.name}' is a text-generation model, but this gpux cannot generate text yet.`,
    { param: "model", code: "model_not_supported", status: 501 },
  );
}

/** POST /v1/chat/completions and /v1/completions: request validation now, generation when the engine lands. */
export function registerGenerationRoutes(scope: FastifyInstance, ctx: ServerContext): void {
  const tags = ["OpenAI-compatible"];
  scope.post(
    "/chat/completions",
    { schema: { summary: "OpenAI chat completions (text-generation models)", tags } },
    async (request) =>
      answer(ctx, parseChatCompletionRequest(readBody(request.body)), "/v1/chat/completions"),
  );
  scope.post(
    "/completions",
    { schema: { summary: "OpenAI text completions (text-generation models)", tags } },
    async (request) => answer(ctx, parseCompletionRequest(readBody(request.body)), "/v1/completions"),
  );
}
