import type { FastifyInstance } from "fastify";
import { playgroundContentSecurityPolicy, playgroundPage } from "../playground-page.js";
import type { ServerContext } from "../server-context.js";

/** GET /: the playground page for every served model (built in memory; no file is read). */
export function registerPlaygroundRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const page = playgroundPage([...ctx.models.keys()]);
  app.get(
    "/",
    { schema: { summary: "Playground web page for the served models", tags: ["docs"] } },
    async (_request, reply) =>
      reply
        .header("content-type", "text/html; charset=utf-8")
        .header("content-security-policy", playgroundContentSecurityPolicy)
        .send(page),
  );
}
