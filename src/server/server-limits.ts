/**
 * Server-wide limits that keep slow or hostile clients from holding the server: every default in one place
 * (docs/guides/serving.md, "Limits and timeouts", lists them with their flags and gpux.yml fields).
 */
export interface ServerLimits {
  /** Largest request body in bytes; larger ones get 413. Default 16 MiB. */
  bodyLimit: number;
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
  bodyLimit: 16 * 1024 * 1024,
  // 16 MiB in 30 s is ~550 KB/s: slow links still upload a full body, a stalled one is dropped.
  readTimeoutMs: 30_000,
  maxConnections: 1024,
  shutdownTimeoutMs: 25_000,
  // 2^22 values: ~10-40 MB of JSON that takes ~1-2 s to encode; an Expand to 2e7 values took 8.6 s.
  maxAnswerElements: 4 * 1024 * 1024,
};

/** How long an idle keep-alive connection stays open: Fastify's 72 s, above common load balancers' 60 s. */
export const keepAliveTimeoutMs = 72_000;

/** How often Node checks connections against the read timeout (its default, 30 s, would stretch it). */
export const readTimeoutCheckMs = 1_000;
