import type { ServedModel } from "../../../engine/served-model.js";
import { OpenAiRequestError } from "../../openai-error.js";
import type { ServerContext } from "../../server-context.js";

/** The task a model is served for ("raw" when gpux.yml names none). */
export function taskOf(model: ServedModel): string {
  return model.loaded.config.task ?? "raw";
}

/** The model named in the request: a 404 listing the served ones (with their tasks) when it is not here. */
export function findModel(ctx: ServerContext, name: string, param = "model"): ServedModel {
  const model = ctx.models.get(name);
  if (model) return model;
  const served = ctx.list.map((m) => `${m.name} (${taskOf(m)})`).join(", ");
  throw new OpenAiRequestError(
    `The model '${name}' does not exist on this server. Served models: ${served}.`,
    {
      param,
      code: "model_not_found",
      status: 404,
    },
  );
}

/**
 * The model, refused with a 400 when its task cannot answer this route (e.g. embeddings from a classifier):
 * the message names the model's task and the served models that can.
 */
export function modelFor(
  ctx: ServerContext,
  name: string,
  route: string,
  tasks: ReadonlySet<string>,
  wanted: string,
): ServedModel {
  const model = findModel(ctx, name);
  if (tasks.has(taskOf(model))) return model;
  const able = ctx.list.filter((m) => tasks.has(taskOf(m))).map((m) => m.name);
  throw new OpenAiRequestError(
    `The model '${name}' is a ${taskOf(model)} model, not ${wanted}; ${route} needs one. ${
      able.length > 0 ? `Served models that can: ${able.join(", ")}.` : `No served model can.`
    }`,
    { param: "model", code: "model_not_supported" },
  );
}
