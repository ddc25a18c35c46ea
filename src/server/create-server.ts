import type { Server } from "node:http";
import { join } from "node:path";
import Fastify, { type FastifyHttpOptions, type FastifyInstance } from "fastify";
import type { ServedModel } from "../engine/served-model.js";
import { envSettings } from "../util/settings.js";
import { answerFrameworkError, registerErrorHandlers, writeClientError } from "./error-handler.js";
import { registerJsonBodyParser } from "./json-body.js";
import { registerGpuxApiRoutes } from "./routes/gpux-api.js";
import { registerMetricsRoutes } from "./routes/metrics.js";
import { registerOipRoutes } from "./routes/oip.js";
import { registerOpenAiRoutes } from "./routes/openai/index.js";
import { collectOpenApi, registerOpenApiRoute } from "./routes/openapi.js";
import { registerPlaygroundRoutes } from "./routes/playground.js";
import { registerApiKey, registerCors } from "./security.js";
import { ServerContext } from "./server-context.js";
import {
  keepAliveTimeoutMs,
  readTimeoutCheckMs,
  type ServerLimits,
  serverLimitDefaults,
} from "./server-limits.js";
import type { ServingMetrics } from "./serving-metrics.js";

export interface CreateServerOptions extends Partial<ServerLimits> {
  models: ServedModel[];
  metrics: ServingMetrics;
  /** Require this key on every route but health probes and the playground page. Default: none. */
  apiKey?: string;
  /** Where the OpenAI Batch API keeps its files and batches. Default: batches/ in the gpux home. */
  batchDir?: string;
  /** Origins allowed to call from a browser (`true` or "*": any). Default: none (same origin only). */
  cors?: string | string[] | boolean;
}

/** Routes still answered while the server drains: probes say "stopping", metrics show the drain. */
const answeredWhileStopping = new Set(["/health", "/v2/health/live", "/v2/health/ready", "/metrics"]);

/** Routes that name a model in one path segment (`:model`) right after the prefix. */
const modelRoutePrefixes = ["/v2/models/", "/predict/", "/info/"];

/**
 * `serve` prints `/v2/models/org/name/infer` (and `/predict/org/name` when it serves several models) for a
 * model named `org/name`; the router reads one path segment per `:model`, so such paths are rewritten to the
 * escaped name (`org%2Fname`) before routing.
 */
function slashNameRewriter(names: readonly string[]): ((url: string) => string) | undefined {
  const slashed = names.filter((name) => name.includes("/")).sort((a, b) => b.length - a.length);
  if (slashed.length === 0) return undefined;
  return (url) => {
    for (const route of modelRoutePrefixes) {
      if (!url.startsWith(route)) continue;
      for (const name of slashed) {
        const prefix = `${route}${name}`;
        const next = url[prefix.length];
        if (url.startsWith(prefix) && (next === undefined || next === "/" || next === "?")) {
          return `${route}${encodeURIComponent(name)}${url.slice(prefix.length)}`;
        }
      }
    }
    return url;
  };
}

/** The HTTP server: every route module registered in one place, errors as JSON, never a stack trace. */
export function createServer(options: CreateServerOptions): { app: FastifyInstance; context: ServerContext } {
  const limits: ServerLimits = { ...serverLimitDefaults };
  for (const key of Object.keys(serverLimitDefaults) as (keyof ServerLimits)[]) {
    if (options[key] !== undefined) limits[key] = options[key];
  }
  const rewrite = slashNameRewriter(options.models.map((m) => m.name));
  const fastifyOptions: FastifyHttpOptions<Server> = {
    logger: false,
    bodyLimit: limits.bodyLimit,
    // Headers and body must both arrive within the read timeout, checked every second (Node's 30 s would
    // let a stalled upload live up to 30 s longer).
    requestTimeout: limits.readTimeoutMs,
    http: {
      connectionsCheckingInterval: readTimeoutCheckMs,
      headersTimeout: Math.min(60_000, limits.readTimeoutMs),
    },
    keepAliveTimeout: keepAliveTimeoutMs,
    return503OnClosing: true,
    // The playground and probes may use keep-alive; idle sockets must not hold a shutdown open.
    forceCloseConnections: "idle",
    clientErrorHandler: writeClientError,
    frameworkErrors: answerFrameworkError,
  };
  if (rewrite) fastifyOptions.rewriteUrl = (request) => rewrite(request.url ?? "/");
  const app = Fastify(fastifyOptions);
  app.server.maxConnections = limits.maxConnections;
  const context = new ServerContext(options.models, options.metrics, options.apiKey !== undefined, limits);
  app.server.on("connection", () => {
    context.lastConnectionAt = performance.now();
  });
  registerErrorHandlers(app, limits);
  registerJsonBodyParser(app);
  if (options.cors) registerCors(app, options.cors === true ? true : options.cors);
  if (options.apiKey !== undefined) registerApiKey(app, options.apiKey);
  // While draining (SIGTERM), new requests on any connection get 503 and every answer closes its connection,
  // so keep-alive clients learn of the shutdown instead of finding their connection gone.
  app.addHook("onRequest", async (request, reply) => {
    if (!context.shuttingDown) return;
    reply.header("connection", "close");
    if (answeredWhileStopping.has(request.url.split("?")[0] ?? "")) return;
    return reply
      .code(503)
      .header("retry-after", "1")
      .send({ error: "The server is shutting down.", hint: "Retry on another replica, or in a moment." });
  });
  // Requests past their body are "accepted": a shutdown waits for them (and only for them) to be answered.
  app.addHook("preHandler", async (_request, reply) => {
    context.openRequests++;
    reply.raw.once("close", () => {
      context.openRequests--;
    });
  });
  const openApi = collectOpenApi(app);
  registerGpuxApiRoutes(app, context);
  registerOipRoutes(app, context);
  registerOpenAiRoutes(app, context, {
    dir: options.batchDir ?? join(envSettings.gpuxHome(), "batches"),
    apiKey: options.apiKey,
  });
  registerMetricsRoutes(app, context);
  registerPlaygroundRoutes(app, context);
  registerOpenApiRoute(app, openApi);
  return { app, context };
}
