import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";

/** Routes a load balancer or Kubernetes probe calls without credentials, and the playground page itself. */
const publicPaths = new Set(["/", "/health", "/v2/health/live", "/v2/health/ready"]);

const digest = (value: string) => createHash("sha256").update(value).digest();

function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith("Bearer ")) return header.slice(7).trim();
  const apiKey = request.headers["x-api-key"];
  return typeof apiKey === "string" ? apiKey : undefined;
}

/** Require `Authorization: Bearer KEY` (or `X-API-Key: KEY`) on every non-public route; constant-time compare. */
export function registerApiKey(app: FastifyInstance, apiKey: string): void {
  const expected = digest(apiKey);
  app.addHook("onRequest", async (request, reply) => {
    if (request.method === "OPTIONS" || publicPaths.has(request.url.split("?")[0] ?? "")) return;
    const key = presentedKey(request);
    // Hashing both sides gives equal lengths, so timingSafeEqual never leaks the key's length either.
    if (key !== undefined && timingSafeEqual(digest(key), expected)) return;
    reply
      .code(401)
      .header("www-authenticate", "Bearer")
      .send({ error: "Missing or wrong API key.", hint: "Send Authorization: Bearer <key> (or X-API-Key)." });
  });
}

/** Allow browsers on the given origin(s) to call the API; `true` or "*" allows any origin. */
export function registerCors(app: FastifyInstance, cors: string | string[] | true): void {
  const origins = cors === true ? ["*"] : Array.isArray(cors) ? cors : [cors];
  const anyOrigin = origins.includes("*");
  app.addHook("onRequest", async (request, reply) => {
    const origin = request.headers.origin;
    if (!origin || (!anyOrigin && !origins.includes(origin))) return;
    reply.header("access-control-allow-origin", anyOrigin ? "*" : origin);
    reply.header("vary", "Origin");
    if (request.method === "OPTIONS") {
      reply
        .header("access-control-allow-methods", "GET, POST, OPTIONS")
        .header("access-control-allow-headers", "content-type, authorization, x-api-key")
        .header("access-control-max-age", "600")
        .code(204)
        .send();
    }
  });
  app.options("/*", async (_request, reply) => reply.code(204).send());
}
