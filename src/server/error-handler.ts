import { type IncomingMessage, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type {
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  FastifyServerOptions,
} from "fastify";
import { GpuxError } from "../util/errors.js";
import { log } from "../util/log.js";
import { isBinaryBody } from "./oip-binary-body.js";
import { bodyTooLargeAnswer, refusedBodyDrainBytes, type ServerLimits } from "./server-limits.js";

/** The JSON body of every error answer. */
export const errorSchema = {
  type: "object",
  properties: { error: { type: "string" }, hint: { type: "string" } },
  required: ["error"],
} as const;

function answerFor(
  error: FastifyError | Error,
  request: FastifyRequest,
  limits: ServerLimits,
): { status: number; error: string; hint?: string } {
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
  if (status === 413) return { status, ...bodyTooLargeAnswer(limits, isBinaryBody(request)) };
  if (status !== undefined && status >= 400 && status < 500) {
    const hint = status === 415 ? "Send Content-Type: application/json." : undefined;
    return { status, error: fastifyError.message, hint };
  }
  log.warn(`internal error answering a request: ${error.message}`);
  return {
    status: 500,
    error: "Internal server error.",
    hint: "Run the server with --verbose and check its log.",
  };
}

/**
 * Read and discard the rest of a body refused as too large, up to `cap` bytes, before answering: clients
 * such as Python's urllib and requests send the whole body before reading, and a server that answers and
 * closes at once leaves them with EPIPE instead of the 413 that says which flag raises the limit. The read
 * timeout still bounds how long this takes.
 */
export function drainRefusedBody(raw: IncomingMessage, cap: number): Promise<void> {
  return new Promise((resolve) => {
    if (raw.complete || raw.destroyed) {
      resolve();
      return;
    }
    let seen = 0;
    const finish = () => {
      raw.off("data", count);
      raw.off("end", finish);
      raw.off("close", finish);
      raw.off("error", finish);
      resolve();
    };
    const count = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > cap) finish();
    };
    raw.on("data", count);
    raw.once("end", finish);
    raw.once("close", finish);
    raw.once("error", finish);
    raw.resume();
  });
}

/** Every error becomes `{"error": "…", "hint": "…"}` with its status; never a stack trace. */
export function registerErrorHandlers(app: FastifyInstance, limits: ServerLimits): void {
  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    const { status, ...body } = answerFor(error, request, limits);
    if (status === 503) reply.header("retry-after", "1");
    if (status === 413) await drainRefusedBody(request.raw, refusedBodyDrainBytes);
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({
      error: `No route ${request.method} ${request.url.split("?")[0]}.`,
      hint: "GET /openapi.json lists every route.",
    });
  });
}

/** What a client error found by Node's HTTP parser (before any route) means, and what to do about it. */
function clientErrorAnswer(code: string | undefined): { status: number; error: string; hint: string } {
  if (code === "ERR_HTTP_REQUEST_TIMEOUT" || code === "ERR_HTTP_REQUEST_TIMEOUT_HEADERS") {
    return {
      status: 408,
      error: "The request did not arrive in time.",
      hint: "Send the whole request within the read timeout (--read-timeout-ms).",
    };
  }
  if (code === "HPE_HEADER_OVERFLOW") {
    return {
      status: 431,
      error: "The request line or headers are too large.",
      hint: "Send a shorter URL and fewer or smaller headers (16 KiB in all).",
    };
  }
  return { status: 400, error: "The request is not valid HTTP.", hint: "Send an HTTP/1.1 request." };
}

/**
 * Node's `clientError` (malformed HTTP, headers too large, read timeout): answered `{"error", "hint"}` like
 * every other error, written straight to the socket since no request object exists, then the socket closes.
 */
export function writeClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === "ECONNRESET" || socket.destroyed) return;
  const { status, ...answer } = clientErrorAnswer(error.code);
  const body = JSON.stringify(answer);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** Errors Fastify finds before routing (a URL that does not decode, a path parameter too long) as JSON. */
export const answerFrameworkError: NonNullable<FastifyServerOptions["frameworkErrors"]> = (
  error,
  _request,
  reply,
) => {
  const tooLong = error.statusCode === 414;
  (reply as FastifyReply).code(tooLong ? 414 : 400).send({
    error: tooLong
      ? "A path segment is too long."
      : "The URL does not decode: a '%' not followed by two hex digits, or bytes that are not UTF-8.",
    hint: tooLong
      ? "Model names and path segments are at most 100 characters."
      : "Percent-encode special characters in the URL (e.g. %25 for %).",
  });
};
