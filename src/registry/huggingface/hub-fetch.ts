import { proxyFor } from "../../net/proxy-settings.js";
import { hubAttempts, hubBackoffMs, retryDelayMs } from "../../net/retry.js";
import { log } from "../../util/log.js";
import { hubUnreachable, isProxyAuthFailure } from "./hub-errors.js";

export interface HubFetchOptions {
  endpoint: string;
  token?: string;
  /** Attempts per request for network errors, 429 and 5xx. Default 4 (GPUX_HUB_RETRIES). */
  attempts?: number;
  /** First backoff delay in ms, doubled each retry. Default 300 (GPUX_HUB_BACKOFF_MS). */
  backoffMs?: number;
  /** Cap on the wait a Retry-After header (on a 429 or 5xx) may ask for, in ms. Default 60 000. */
  maxRetryAfterMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const retryable = (status: number) => status === 429 || status >= 500;

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
 * A `fetch` for the Hub: adds the token (only for the Hub's own origin; redirects to a CDN drop it, as fetch
 * does cross-origin) and retries network errors, 429 and 5xx with exponential backoff, or after the wait a
 * Retry-After header asks for. The last answer (or a clear "cannot reach" error) is returned. Requests go
 * through the proxy HTTPS_PROXY / HTTP_PROXY name (NO_PROXY respected; redirects follow the first hop's route).
 */
export function createHubFetch(options: HubFetchOptions): typeof fetch {
  const origin = new URL(options.endpoint).origin;
  return async (input, init = {}) => {
    const attempts = options.attempts ?? hubAttempts();
    const backoff = options.backoffMs ?? hubBackoffMs();
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const headers = new Headers(init.headers);
    if (options.token && new URL(url).origin === origin)
      headers.set("authorization", `Bearer ${options.token}`);
    headers.set("user-agent", "gpux");
    const dispatcher = await dispatcherFor(url);
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      let retryAfter: string | null = null;
      try {
        const response = await fetch(url, { ...init, headers, ...(dispatcher ? { dispatcher } : {}) });
        if (!retryable(response.status) || attempt === attempts) return response;
        retryAfter = response.headers.get("retry-after");
        await response.body?.cancel();
        log.debug(`hub: HTTP ${response.status} for ${url}, retry ${attempt}/${attempts - 1}`);
      } catch (error) {
        lastError = error;
        if (init.signal?.aborted) throw error;
        if (isProxyAuthFailure(error)) break; // the same credentials will not do better on a retry
        log.debug(`hub: ${(error as Error).message} for ${url}, retry ${attempt}/${attempts - 1}`);
      }
      if (attempt < attempts) {
        await sleep(
          retryDelayMs(attempt, { backoffMs: backoff, retryAfter, maxRetryAfterMs: options.maxRetryAfterMs }),
        );
      }
    }
    throw hubUnreachable(options.endpoint, (lastError as Error)?.cause ?? lastError);
  };
}
