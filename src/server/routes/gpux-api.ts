import type { FastifyInstance, FastifyReply } from "fastify";
import type { PredictTiming, ServedModel } from "../../engine/served-model.js";
import { UnavailableError } from "../../engine/serving-errors.js";
import { errorSchema } from "../error-handler.js";
import { predictGeneration } from "../gpux-generation.js";
import type { ServerContext } from "../server-context.js";

const modelQuery = {
  type: "object",
  properties: { model: { type: "string", description: "model name; needed when several are served" } },
} as const;
const modelParams = {
  type: "object",
  properties: { model: { type: "string" } },
  required: ["model"],
} as const;

function serverTiming(reply: FastifyReply, timing: PredictTiming): void {
  reply.header(
    "server-timing",
    `queue;dur=${timing.queueMs.toFixed(3)}, compute;dur=${timing.computeMs.toFixed(3)}, batch;desc="${timing.batchRows} rows"`,
  );
}

/** The earlier tool's API: GET /health, GET /info, POST /predict (raw tensors or pipeline JSON). */
export function registerGpuxApiRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get(
    "/health",
    {
      schema: {
        summary: "Liveness and readiness in the earlier gpux format",
        tags: ["gpux"],
        response: {
          200: {
            type: "object",
            properties: {
              status: { type: "string" },
              model: { type: "string" },
              models: { type: "array", items: { type: "string" } },
              generation: {
                type: "object",
                description: "per text-generation model: sequences running and waiting, and their bounds",
                additionalProperties: {
                  type: "object",
                  properties: {
                    running: { type: "integer" },
                    waiting: { type: "integer" },
                    max_concurrent_sequences: { type: "integer" },
                    max_waiting_sequences: { type: "integer" },
                  },
                },
              },
            },
          },
          503: {
            type: "object",
            properties: { status: { type: "string" }, model: { type: "string" }, error: { type: "string" } },
          },
        },
      },
    },
    async (_request, reply) => {
      const names = [...ctx.models.keys()];
      const body = { model: names[0] ?? "", models: names };
      const generating = ctx.list.filter((m) => m.generation);
      if (ctx.ready) {
        if (generating.length === 0) return { status: "healthy", ...body };
        const generation = Object.fromEntries(generating.map((m) => [m.name, m.generation?.load]));
        return { status: "healthy", ...body, generation };
      }
      const status = ctx.shuttingDown
        ? "stopping"
        : ctx.list.some((m) => m.state === "failed")
          ? "failed"
          : ctx.list.some((m) => m.state === "restarting")
            ? "restarting"
            : "loading";
      return reply.code(503).send({ status, model: body.model, error: `Server is ${status}.` });
    },
  );

  const info = (model: ServedModel) => {
    const description = model.description;
    if (model.state === "loading" || model.state === "failed" || !description) {
      throw new UnavailableError(
        `Model '${model.name}' is ${model.state === "loading" ? "still loading" : "not loaded"}.`,
      );
    }
    // gpux.yml may pin dimensions the graph leaves open (e.g. an image size): show what requests must send.
    const declared = new Map((model.loaded.config.inputs ?? []).map((input) => [input.name, input.shape]));
    return {
      ...description,
      inputs: description.inputs.map((spec) => ({ ...spec, shape: declared.get(spec.name) ?? spec.shape })),
      serving: {
        state: model.state,
        workers: model.options.workers,
        max_batch_size: model.batchable ? model.options.maxBatchSize : 1,
        max_queue_delay_ms: model.options.maxQueueDelayMs,
        max_concurrency: model.options.maxConcurrency,
        timeout_ms: model.options.timeoutMs,
        ...(model.generation
          ? { ...model.generation.load, generation_timeout_ms: model.options.generationTimeoutMs }
          : {}),
        warmup_ms: model.warmupMs,
        auth_required: ctx.authRequired,
      },
    };
  };
  const infoSchema = {
    summary: "Model description: inputs, outputs, task, provider, serving settings",
    tags: ["gpux"],
  };
  app.get<{ Querystring: { model?: string } }>(
    "/info",
    { schema: { ...infoSchema, querystring: modelQuery, response: { 404: errorSchema } } },
    async (request) => info(ctx.pick(request.query.model, "/info?model=NAME")),
  );
  app.get<{ Params: { model: string } }>(
    "/info/:model",
    { schema: { ...infoSchema, params: modelParams, response: { 404: errorSchema } } },
    async (request) => info(ctx.find(request.params.model)),
  );

  const predict = async (model: ServedModel, body: unknown, reply: FastifyReply) => {
    if (model.generates) return predictGeneration(ctx, model, body, reply);
    const { result, timing } = await ctx.measure(model, () =>
      model.predict(body, ctx.limits.maxAnswerElements),
    );
    serverTiming(reply, timing);
    return result;
  };
  const predictSchema = {
    summary:
      "Run the model on one JSON request: raw tensors {input: nested list}, pipeline JSON such as {text: …}, or for a text-generation model {prompt: …} or {messages: [...]}",
    tags: ["gpux"],
    body: { type: "object", description: "input name → nested array, or the pipeline's request fields" },
    response: { 400: errorSchema, 404: errorSchema, 429: errorSchema, 503: errorSchema, 504: errorSchema },
  };
  app.post<{ Querystring: { model?: string } }>(
    "/predict",
    { schema: { ...predictSchema, querystring: modelQuery } },
    async (request, reply) => predict(ctx.pick(request.query.model), request.body, reply),
  );
  app.post<{ Params: { model: string } }>(
    "/predict/:model",
    { schema: { ...predictSchema, params: modelParams } },
    async (request, reply) => predict(ctx.find(request.params.model), request.body, reply),
  );
}
