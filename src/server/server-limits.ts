import { defaults } from "../util/settings.js";

/**
 * Server-wide limits that keep slow or hostile clients from holding the server: every default in one place
 * (docs/guides/serving.md, "Limits and timeouts", lists them with their flags and gpux.yml fields).
 */
export interface ServerLimits {
  /** Largest JSON request body in bytes; larger ones get 413. */
  bodyLimit: number;
  /** Largest binary body (Triton's binary tensor data on OIP infer) in bytes; larger ones get 413. */
  binaryBodyLimit: number;
  /** A request's headers and body must arrive within this many ms, else 408 and the connection closes. */
  readTimeoutMs: number;
  /** Open connections at once; connections beyond it are closed as they arrive. */
  maxConnections: number;
  /** After SIGTERM, requests still unanswered this many ms later are cut off (under Kubernetes' 30 s grace). */
  shutdownTimeoutMs: number;
  /** Most values (tensor elements) in one answer; a larger answer is refused before it is encoded. */
  maxAnswerElements: number;
}

export const serverLimitDefaults: ServerLimits = {
  bodyLimit: defaults.serve.bodyLimit,
  binaryBodyLimit: defaults.serve.binaryBodyLimit,
  readTimeoutMs: defaults.serve.readTimeoutMs,
  maxConnections: defaults.serve.maxConnections,
  shutdownTimeoutMs: defaults.serve.shutdownTimeoutMs,
  maxAnswerElements: defaults.serve.maxAnswerElements,
};

/** How long an idle keep-alive connection stays open: Fastify's 72 s, above common load balancers' 60 s. */
export const keepAliveTimeoutMs = 72_000;

/**
 * How much of a body refused with 413 is read (and dropped) so its client gets to read the answer: 256 MiB,
 * ~2 s at 1 Gbit/s; a client sending more is cut off, as before.
 */
export const refusedBodyDrainBytes = 256 * 1024 * 1024;

/** How often Node checks connections against the read timeout (its default, 30 s, would stretch it). */
export const readTimeoutCheckMs = 1_000;

function formatLimit(bytes: number): string {
  return bytes % 2 ** 20 === 0 ? `${bytes / 2 ** 20} MiB` : `${bytes}-byte`;
}

/** The 413 answer: the limit the body passed, and the flag (and gpux.yml field) that raises it. */
export function bodyTooLargeAnswer(limits: ServerLimits, binary: boolean): { error: string; hint: string } {
  const [limit, flag, field] = binary
    ? [limits.binaryBodyLimit, "--binary-body-limit", "serving.binary_body_limit"]
    : [limits.bodyLimit, "--body-limit", "serving.body_limit"];
  return {
    error: `The request body is larger than the ${formatLimit(limit)} limit for ${binary ? "binary" : "JSON"} bodies.`,
    hint: `Send a smaller body, or raise the limit: gpux serve ${flag} BYTES (${field} in gpux.yml).`,
  };
}
