import { log } from "../util/log.js";
import { proxyFor } from "./proxy-settings.js";
import { hubAttempts, hubBackoffMs, isRetryableStatus, RetryableAnswer, withRetries } from "./retry.js";

export interface FetchWithRetriesOptions {
  /** Origin (or any URL on it) that gets the token; redirects elsewhere drop it, as fetch does cross-origin. */
  tokenOrigin: string;
  token?: string;
  /** Attempts per request for network errors, 429 and 5xx. Default 4 (GPUX_HUB_RETRIES). */
  attempts?: number;
  /** First backoff delay in ms, doubled each retry. Default 300 (GPUX_HUB_BACKOFF_MS). */
  backoffMs?: number;
  /** Cap on the wait a Retry-After header (on a 429 or 5xx) may ask for, in ms. Default 60 000. */
  maxRetryAfterMs?: number;
  /** True for a network error no retry mends (wrong proxy credentials): given up on at once. */
  isFinal?: (error: unknown) => boolean;
  /** The error to throw when the server cannot be reached after the retries, from the network error. */
  unreachable: (cause: unknown) => Error;
}

type Dispatcher = NonNullable<RequestInit["dispatcher"]>;
/** One undici ProxyAgent per proxy URL, loaded only when a proxy is set (undici costs start-up time). */
const proxyAgents = new Map<string, Promise<Dispatcher>>();

/** fetch's `dispatcher` for `url`: a ProxyAgent when HTTPS_PROXY / HTTP_PROXY apply to it, else none. */
function dispatcherFor(url: string): Promise<Dispatcher> | undefined {
  const proxy = proxyFor(new URL(url));
  if (!proxy) return undefined;
  let agent = proxyAgents.get(proxy.href);
  if (!agent) {
    agent = import("undici").then(({ ProxyAgent }) => new ProxyAgent({ uri: proxy.href }) as Dispatcher);
    proxyAgents.set(proxy.href, agent);
  }
  return agent;
}

/**
 * A `fetch` for a registry's API: adds the token (only for its own origin) and retries network errors, 429 and
 * 5xx with exponential backoff, or after the wait a Retry-After header asks for. The last answer (or the
 * `unreachable` error) is returned. Requests go through the proxy HTTPS_PROXY / HTTP_PROXY name (NO_PROXY
 * respected; redirects follow the first hop's route).
 */
export function createFetchWithRetries(options: FetchWithRetriesOptions): typeof fetch {
  const origin = new URL(options.tokenOrigin).origin;
  return async (input, init = {}) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const headers = new Headers(init.headers);
    if (options.token && new URL(url).origin === origin)
      headers.set("authorization", `Bearer ${options.token}`);
    headers.set("user-agent", "gpux");
    const dispatcher = await dispatcherFor(url);
    // read before the loop: a bad setting is the user's error, not an unreachable server
    const attempts = options.attempts ?? hubAttempts();
    const backoffMs = options.backoffMs ?? hubBackoffMs();
    try {
      return await withRetries(
        async ({ last }) => {
          const response = await fetch(url, { ...init, headers, ...(dispatcher ? { dispatcher } : {}) });
          if (!isRetryableStatus(response.status) || last) return response;
          await response.body?.cancel();
          throw new RetryableAnswer(response.status, response.headers.get("retry-after"));
        },
        {
          attempts,
          backoffMs,
          maxRetryAfterMs: options.maxRetryAfterMs,
          isFinal: (error) => Boolean(init.signal?.aborted) || Boolean(options.isFinal?.(error)),
          onRetry: (error, failures) =>
            log.debug(`${(error as Error).message} for ${url}, retry ${failures}`),
        },
      );
    } catch (error) {
      if (init.signal?.aborted) throw error;
      throw options.unreachable((error as Error)?.cause ?? error);
    }
  };
}
