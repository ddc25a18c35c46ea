import type { FastifyError, FastifyInstance } from "fastify";
import { GpuxError, UserError } from "../util/errors.js";
import { log } from "../util/log.js";
import { drainRefusedBody } from "./error-handler.js";
import { bodyTooLargeAnswer, refusedBodyDrainBytes, type ServerLimits } from "./server-limits.js";

/**
 * A request the OpenAI-compatible routes refuse, naming the field (`param`) and a stable `code` that clients
 * can match. Still a UserError (HTTP 400), so the rest of gpux treats it like any bad request.
 */
export class OpenAiRequestError extends UserError {
  readonly param: string | null;
  readonly code: string;
  override readonly httpStatus: number;

  constructor(message: string, options: { param?: string; code: string; status?: number; hint?: string }) {
    super(message, { hint: options.hint });
    this.param = options.param ?? null;
    this.code = options.code;
    this.httpStatus = options.status ?? 400;
  }
}

/** The body OpenAI's API (and its clients) use for every error. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** OpenAI's error `type` for a status, as its API documents them. */
function errorType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

/** A stable code for errors that did not name one, so clients can still match on something. */
function codeFor(status: number): string | null {
  const codes: Record<number, string> = {
    401: "invalid_api_key",
    404: "not_found",
    413: "request_too_large",
    415: "unsupported_media_type",
    429: "rate_limit_exceeded",
    503: "model_not_ready",
    504: "timeout",
  };
  return codes[status] ?? null;
}

/** The OpenAI-shaped body and status for an error; gpux's hint is appended to the message (one field). */
export function openAiError(
  status: number,
  message: string,
  extra: { param?: string | null; code?: string | null } = {},
): OpenAiErrorBody {
  return {
    error: {
      message,
      type: errorType(status),
      param: extra.param ?? null,
      code: extra.code !== undefined ? extra.code : codeFor(status),
    },
  };
}

/** The status and OpenAI-shaped body for any error (also what a stream writes when it fails midway). */
export function openAiAnswerFor(error: FastifyError | Error): { status: number; body: OpenAiErrorBody } {
  const withHint = (message: string, hint?: string) => (hint ? `${message} ${hint}` : message);
  if (error instanceof OpenAiRequestError) {
    const body = openAiError(error.httpStatus, withHint(error.message, error.hint), error);
    return { status: error.httpStatus, body };
  }
  if (error instanceof GpuxError) {
    const status = error.httpStatus;
    // the shared JSON body parser's hint shows a gpux API request, which would mislead here
    if (status === 400 && /not valid JSON|body is empty/.test(error.message)) {
      return { status, body: openAiError(status, error.message, { code: "invalid_json" }) };
    }
    return { status, body: openAiError(status, withHint(error.message, error.hint)) };
  }
  const status = (error as FastifyError).statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return { status, body: openAiError(status, error.message) };
  }
  log.warn(`internal error answering an OpenAI-compatible request: ${error.message}`);
  return {
    status: 500,
    body: openAiError(500, "Internal server error. Run the server with --verbose and check its log."),
  };
}

/** True for gpux's own error body, `{"error": "…", "hint"?: "…"}`. */
function isGpuxErrorBody(value: unknown): value is { error: string; hint?: string } {
  return (
    typeof value === "object" && value !== null && typeof (value as { error?: unknown }).error === "string"
  );
}

/**
 * Every failure inside `scope` answers in OpenAI's shape: errors thrown by its routes through the error
 * handler, unknown paths through the not-found handler, and answers written by hooks shared with the other
 * protocols (the API key check, which runs before any route) by rewriting their gpux-shaped body on its way out.
 */
export function registerOpenAiErrors(scope: FastifyInstance, limits: ServerLimits): void {
  scope.setErrorHandler(async (error: FastifyError, request, reply) => {
    const tooLarge = (error as FastifyError).statusCode === 413;
    // the same answer as the other protocols give: the limit, and the flag that raises it
    const { status, body } = tooLarge
      ? (({ error: message, hint }) => ({ status: 413, body: openAiError(413, `${message} ${hint}`) }))(
          bodyTooLargeAnswer(limits, false),
        )
      : openAiAnswerFor(error);
    if (status === 503) reply.header("retry-after", "1");
    if (tooLarge) await drainRefusedBody(request.raw, refusedBodyDrainBytes);
    return reply.code(status).send(body);
  });
  scope.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?")[0];
    reply.code(404).send(
      openAiError(
        404,
        `No route ${request.method} ${path}. The OpenAI-compatible routes are listed in GET /openapi.json.`,
        {
          code: "unknown_url",
        },
      ),
    );
  });
  scope.addHook("onSend", async (_request, reply, payload) => {
    if (reply.statusCode < 400 || typeof payload !== "string") return payload;
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload);
    } catch {
      return payload;
    }
    if (!isGpuxErrorBody(parsed)) return payload;
    const message = parsed.hint ? `${parsed.error} ${parsed.hint}` : parsed.error;
    return JSON.stringify(openAiError(reply.statusCode, message));
  });
}
