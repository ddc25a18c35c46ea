import { envSettings } from "../util/settings.js";

/** The longest wait a Retry-After header can impose on a pull, by default: 60 s. */
export const defaultMaxRetryAfterMs = 60_000;

/**
 * Milliseconds a Retry-After header asks for (delay-seconds, or an HTTP date), at most `maxMs`; undefined when
 * the header is absent or unreadable, so the caller falls back to its own backoff.
 */
export function retryAfterMs(
  value: string | null | undefined,
  maxMs = defaultMaxRetryAfterMs,
  now = Date.now(),
): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  // an HTTP date always ends in GMT; Date.parse alone would read "-5" as a year
  const ms = /^\d+$/.test(text)
    ? Number(text) * 1000
    : / GMT$/.test(text)
      ? Date.parse(text) - now
      : Number.NaN;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(Math.max(ms, 0), maxMs);
}

export interface RetryDelayOptions {
  /** First backoff delay in ms, doubled each retry. */
  backoffMs: number;
  /** The Retry-After header of the answer being retried, if any. */
  retryAfter?: string | null;
  /** Cap on what Retry-After may ask for. Default 60 s. */
  maxRetryAfterMs?: number;
}

/** The wait before retry `attempt` (1-based): what the server asked for in Retry-After, else exponential backoff. */
export function retryDelayMs(attempt: number, options: RetryDelayOptions): number {
  return retryAfterMs(options.retryAfter, options.maxRetryAfterMs) ?? options.backoffMs * 2 ** (attempt - 1);
}

/** The one wait of gpux's network code (between retries). */
export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** An answer worth another try (a 429 or 5xx), carrying the wait the server asked for. */
export class RetryableAnswer extends Error {
  constructor(
    readonly status: number,
    readonly retryAfter: string | null | undefined,
  ) {
    super(`HTTP ${status}`);
  }
}

/** True for the statuses worth retrying: 429 (rate-limited) and 5xx. */
export const isRetryableStatus = (status: number) => status === 429 || status >= 500;

export interface WithRetriesOptions {
  /** Attempts in a row that may fail (without progress) before the last error is thrown. */
  attempts: number;
  /** First backoff delay in ms, doubled each retry. */
  backoffMs: number;
  /** Cap on the wait a Retry-After header may ask for. Default 60 s. */
  maxRetryAfterMs?: number;
  /** True for an error no retry can mend: thrown at once. */
  isFinal?: (error: unknown) => boolean;
  /** True when the failed attempt still moved forward (bytes arrived): the failure count starts again. */
  progressed?: () => boolean;
  /** Told before each wait (for debug logs). */
  onRetry?: (error: unknown, failures: number) => void;
}

/**
 * Run `attempt` until it succeeds: after a failure wait (Retry-After of a RetryableAnswer, else exponential
 * backoff) and try again, until `attempts` failures in a row; then the last error is thrown. `last` tells the
 * attempt that no retry follows, so it can return a failing answer instead of throwing it.
 */
export async function withRetries<T>(
  attempt: (context: { last: boolean }) => Promise<T>,
  options: WithRetriesOptions,
): Promise<T> {
  let failures = 0;
  for (;;) {
    try {
      return await attempt({ last: failures + 1 >= options.attempts });
    } catch (error) {
      if (options.isFinal?.(error)) throw error;
      failures = options.progressed?.() ? 1 : failures + 1;
      if (failures >= options.attempts) throw error;
      options.onRetry?.(error, failures);
      const retryAfter = error instanceof RetryableAnswer ? error.retryAfter : undefined;
      await sleep(
        retryDelayMs(failures, {
          backoffMs: options.backoffMs,
          retryAfter,
          maxRetryAfterMs: options.maxRetryAfterMs,
        }),
      );
    }
  }
}

/** GPUX_HUB_RETRIES: attempts per request (≥ 1). Default 4. */
export const hubAttempts = envSettings.hubAttempts;

/** GPUX_HUB_BACKOFF_MS: first backoff delay in ms (≥ 0). Default 300. */
export const hubBackoffMs = envSettings.hubBackoffMs;
