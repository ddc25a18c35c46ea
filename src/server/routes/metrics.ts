import type { FastifyInstance } from "fastify";
import type { ServerContext } from "../server-context.js";

/** GET /metrics: Prometheus text format (docs/reference/metrics.md). */
export function registerMetricsRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get(
    "/metrics",
    {
      schema: {
        summary: "Prometheus metrics: requests, durations, batch sizes, queue, per model",
        tags: ["monitoring"],
      },
    },
    async (_request, reply) => {
      reply.header("content-type", ctx.metrics.registry.contentType);
      return ctx.metrics.registry.metrics();
    },
  );
}
