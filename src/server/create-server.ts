import Fastify, { type FastifyInstance } from "fastify";
import type { ServedModel } from "../engine/served-model.js";
import { defaults } from "../util/settings.js";
import { registerErrorHandlers } from "./error-handler.js";
import { registerJsonBodyParser } from "./json-body.js";
import { registerGpuxApiRoutes } from "./routes/gpux-api.js";
import { registerMetricsRoutes } from "./routes/metrics.js";
import { registerOipRoutes } from "./routes/oip.js";
import { registerOpenAiRoutes } from "./routes/openai/index.js";
import { collectOpenApi, registerOpenApiRoute } from "./routes/openapi.js";
import { registerPlaygroundRoutes } from "./routes/playground.js";
import { registerApiKey, registerCors } from "./security.js";
import { ServerContext } from "./server-context.js";
import type { ServingMetrics } from "./serving-metrics.js";

export interface CreateServerOptions {
  models: ServedModel[];
  metrics: ServingMetrics;
  /** Require this key on every route but health probes and the playground page. Default: none. */
  apiKey?: string;
  /** Origins allowed to call from a browser (`true` or "*": any). Default: none (same origin only). */
  cors?: string | string[] | boolean;
  /** Largest request body in bytes; larger ones get 413. Default 16 MiB. */
  bodyLimit?: number;
}

/** The HTTP server: every route module registered in one place, errors as JSON, never a stack trace. */
export function createServer(options: CreateServerOptions): { app: FastifyInstance; context: ServerContext } {
  const app = Fastify({
    logger: false,
    bodyLimit: options.bodyLimit ?? defaults.serve.bodyLimit,
    return503OnClosing: true,
    // The playground and probes may use keep-alive; idle sockets must not hold a shutdown open.
    forceCloseConnections: "idle",
  });
  const context = new ServerContext(options.models, options.metrics, options.apiKey !== undefined);
  registerErrorHandlers(app);
  registerJsonBodyParser(app);
  if (options.cors) registerCors(app, options.cors === true ? true : options.cors);
  if (options.apiKey !== undefined) registerApiKey(app, options.apiKey);
  // While shutting down, every answer closes its connection so keep-alive clients cannot hold the server open.
  app.addHook("onSend", async (_request, reply) => {
    if (context.shuttingDown) reply.header("connection", "close");
  });
  const openApi = collectOpenApi(app);
  registerGpuxApiRoutes(app, context);
  registerOipRoutes(app, context);
  registerOpenAiRoutes(app, context);
  registerMetricsRoutes(app, context);
  registerPlaygroundRoutes(app, context);
  registerOpenApiRoute(app, openApi);
  return { app, context };
}
