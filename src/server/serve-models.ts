import type { FastifyInstance } from "fastify";
import type { LoadedConfig } from "../config/load-config.js";
import { ServedModel } from "../engine/served-model.js";
import { modelServingOptions, type ServingFlags } from "../engine/serving-options.js";
import { UserError } from "../util/errors.js";
import { log } from "../util/log.js";
import { defaults } from "../util/settings.js";
import { type CreateServerOptions, createServer } from "./create-server.js";
import { listenError } from "./listen-error.js";
import type { ServerContext } from "./server-context.js";
import { type ServerLimits, serverLimitDefaults } from "./server-limits.js";
import { ServingMetrics } from "./serving-metrics.js";

export interface ServeOptions
  extends ServingFlags,
    Pick<CreateServerOptions, "apiKey" | "cors">,
    Partial<ServerLimits> {
  /** Address to bind. Default 127.0.0.1 (this machine only). */
  host?: string;
  /** Port; 0 picks a free one. Default 8080. */
  port?: number;
}

export interface RunningServer {
  app: FastifyInstance;
  context: ServerContext;
  models: ServedModel[];
  /** http://host:port/ as a person can open it. */
  url: string;
  /** Resolves when every model is ready; rejects when one fails to load. */
  ready: Promise<void>;
  /**
   * Graceful stop: keep accepting connections but answer new requests 503, answer those accepted (within
   * shutdownTimeoutMs), then close every connection and stop the workers.
   */
  close(): Promise<void>;
}

/** Serve loaded models: listen first (liveness answers at once), then load and warm up every model. */
export async function serveModels(
  loaded: readonly LoadedConfig[],
  options: ServeOptions = {},
): Promise<RunningServer> {
  const names = new Set<string>();
  for (const { config } of loaded) {
    if (names.has(config.name)) {
      throw new UserError(`Two models are named '${config.name}'.`, {
        hint: "Give each a different `name:` in its gpux.yml.",
      });
    }
    names.add(config.name);
  }
  let models: ServedModel[] = [];
  const metrics = new ServingMetrics(() => models);
  models = loaded.map(
    (l) => new ServedModel(l, modelServingOptions(l.config, options), metrics.observerFor(l.config)),
  );
  const { app, context } = createServer({ ...options, models, metrics });
  const host = options.host ?? defaults.serve.host;
  const port = options.port ?? defaults.serve.port;
  try {
    await app.listen({ host, port });
  } catch (error) {
    await app.close().catch(() => undefined);
    throw listenError(error, host, port);
  }
  const address = app.server.address();
  const bound = typeof address === "object" && address ? address.port : port;
  const shownHost =
    host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  const ready = Promise.all(models.map((m) => m.start())).then(() => undefined);
  ready.catch(() => undefined); // the caller decides; an unobserved failure must not crash the process
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      context.shuttingDown = true;
      const drained = await drainRequests(
        context,
        options.shutdownTimeoutMs ?? serverLimitDefaults.shutdownTimeoutMs,
      );
      // Only idle keep-alive connections, unfinished uploads and requests past the deadline are left.
      const closed = app.close();
      app.server.closeAllConnections();
      await closed;
      await Promise.all(models.map((m) => m.stop({ abandonQueued: !drained })));
    })();
    return closing;
  };
  return { app, context, models, url: `http://${shownHost}:${bound}/`, ready, close };
}

/** Quiet this long before the listener closes: connections queued in the kernel are accepted, not reset. */
const quietBeforeCloseMs = 100;

/**
 * Wait until every accepted request is answered and no connection arrived for a moment (true), or the
 * deadline (false). The listener stays open meanwhile: closing it at once would reset connections waiting to be accepted.
 */
async function drainRequests(context: ServerContext, deadlineMs: number): Promise<boolean> {
  const end = performance.now() + deadlineMs;
  const settled = () =>
    context.openRequests === 0 && performance.now() - context.lastConnectionAt >= quietBeforeCloseMs;
  // One turn of the event loop first, so connections already queued are accepted before anything closes.
  await new Promise((resolve) => setImmediate(resolve));
  while (!settled() && performance.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  if (context.openRequests === 0) return true;
  log.warn(`${context.openRequests} requests still open at the shutdown deadline; closing their connections`);
  return false;
}
