import { createFetchWithRetries, type FetchWithRetriesOptions } from "../../net/fetch-with-retries.js";
import { hubUnreachable, isProxyAuthFailure } from "./hub-errors.js";

export interface HubFetchOptions
  extends Pick<FetchWithRetriesOptions, "token" | "attempts" | "backoffMs" | "maxRetryAfterMs"> {
  endpoint: string;
}

/**
 * A `fetch` for the Hub: the token goes only to the Hub's own origin (a redirect to a CDN drops it), network
 * errors, 429 and 5xx are retried (net/fetch-with-retries.ts), and a Hub that cannot be reached ends in the
 * Hub's own message (proxy, --offline); wrong proxy credentials are not retried.
 */
export function createHubFetch(options: HubFetchOptions): typeof fetch {
  return createFetchWithRetries({
    ...options,
    tokenOrigin: options.endpoint,
    isFinal: isProxyAuthFailure,
    unreachable: (cause) => hubUnreachable(options.endpoint, cause),
  });
}
