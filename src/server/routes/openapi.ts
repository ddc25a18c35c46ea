import type { FastifyInstance, RouteOptions } from "fastify";
import { gpuxVersion } from "../../util/version.js";

declare module "fastify" {
  interface FastifySchema {
    /** One line for /openapi.json; routes without one are left out of it. */
    summary?: string;
    tags?: string[];
  }
}

interface RouteSchema {
  summary?: string;
  tags?: string[];
  body?: unknown;
  params?: { properties?: Record<string, unknown> };
  querystring?: { properties?: Record<string, unknown> };
  response?: Record<string, unknown>;
}

/** Collect every route's schema as it is registered; call before the other route modules. */
export function collectOpenApi(app: FastifyInstance): () => unknown {
  const paths: Record<string, Record<string, unknown>> = {};
  app.addHook("onRoute", (route: RouteOptions) => {
    const schema = route.schema as RouteSchema | undefined;
    if (!schema?.summary) return;
    const path = route.url.replace(/:(\w+)/g, "{$1}");
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const parameters = [
      ...Object.keys(schema.params?.properties ?? {}).map((name) => ({
        name,
        in: "path",
        required: true,
        schema: { type: "string" },
      })),
      ...Object.entries(schema.querystring?.properties ?? {}).map(([name, s]) => ({
        name,
        in: "query",
        schema: s,
      })),
    ];
    const responses: Record<string, unknown> = { 200: { description: "OK" } };
    for (const [status, body] of Object.entries(schema.response ?? {})) {
      responses[status] = {
        description: status === "200" ? "OK" : "error",
        content: { "application/json": { schema: body } },
      };
    }
    for (const method of methods) {
      paths[path] ??= {};
      (paths[path] as Record<string, unknown>)[method.toLowerCase()] = {
        summary: schema.summary,
        tags: schema.tags,
        ...(parameters.length > 0 ? { parameters } : {}),
        ...(schema.body
          ? { requestBody: { required: true, content: { "application/json": { schema: schema.body } } } }
          : {}),
        responses,
      };
    }
  });
  return () => ({
    openapi: "3.1.0",
    info: {
      title: "gpux serve",
      version: gpuxVersion,
      description: "gpux API and KServe Open Inference Protocol v2",
    },
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "only when started with --api-key" },
      },
    },
    paths,
  });
}

/** GET /openapi.json: the document collectOpenApi built. */
export function registerOpenApiRoute(app: FastifyInstance, document: () => unknown): void {
  app.get("/openapi.json", { schema: { summary: "This API as OpenAPI 3.1", tags: ["docs"] } }, async () =>
    document(),
  );
}
