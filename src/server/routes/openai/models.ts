import type { FastifyInstance } from "fastify";
import type { ServedModel } from "../../../engine/served-model.js";
import type { ServerContext } from "../../server-context.js";
import { findModel, taskOf } from "./served-models.js";

/**
 * OpenAI's Model object, plus the task gpux serves it for, whether it takes requests yet, and for a
 * text-generation model its sequences running and waiting and their bounds.
 */
function modelObject(model: ServedModel, created: number) {
  return {
    id: model.name,
    object: "model",
    created,
    owned_by: "gpux",
    task: taskOf(model),
    ready: model.state === "ready",
    ...(model.generation ? { generation: model.generation.load } : {}),
  };
}

/**
 * GET /v1/models and /v1/models/{id}; ids may hold slashes (`org/name`), so the id is the rest of the path,
 * which Fastify has already percent-decoded (`org%2Fname`, as the openai client sends it, arrives as `org/name`).
 */
export function registerModelRoutes(scope: FastifyInstance, ctx: ServerContext): void {
  // OpenAI's `created` is when the model was made available: here, when the server started.
  const created = Math.floor(Date.now() / 1000);
  const tags = ["OpenAI-compatible"];
  scope.get("/models", { schema: { summary: "Every served model with its task", tags } }, async () => ({
    object: "list",
    data: ctx.list.map((model) => modelObject(model, created)),
  }));
  scope.get<{ Params: { "*": string } }>(
    "/models/*",
    { schema: { summary: "One served model (ids may contain '/')", tags } },
    async (request) => modelObject(findModel(ctx, request.params["*"], "model"), created),
  );
}
