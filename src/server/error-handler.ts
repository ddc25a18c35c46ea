import type { FastifyError, FastifyInstance } from "fastify";
import { GpuxError } from "../util/errors.js";
import { log } from "../util/log.js";

/** The JSON body of every error answer. */
export const errorSchema = {
  type: "object",
  properties: { error: { type: "string" }, hint: { type: "string" } },
  required: ["error"],
} as const;

function answerFor(error: FastifyError | Error): { status: number; error: string; hint?: string } {
  if (error instanceof GpuxError) return { status: error.httpStatus, error: error.message, hint: error.hint };
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    return {
      status: 400,
      error: `Invalid request: ${fastifyError.message}`,
      hint: "See GET /openapi.json for the request schema.",
    };
  }
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    const hint =
      status === 413
        ? "Send a smaller body; the limit is set by --body-limit."
        : status === 415
          ? "Send Content-Type: application/json."
          : undefined;
    return { status, error: fastifyError.message, hint };
  }
  log.warn(`internal error answering a request: ${error.message}`);
  return {
    status: 500,
    error: "Internal server error.",
    hint: "Run the server with --verbose and check its log.",
  };
}

/** Every error becomes `{"error": "…", "hint": "…"}` with its status; never a stack trace. */
export function registerErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, _request, reply) => {
    const { status, ...body } = answerFor(error);
    if (status === 503) reply.header("retry-after", "1");
    reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({
      error: `No route ${request.method} ${request.url.split("?")[0]}.`,
      hint: "GET /openapi.json lists every route.",
    });
  });
}
