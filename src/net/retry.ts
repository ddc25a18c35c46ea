import { UserError } from "../util/errors.js";

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

function envInteger(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const text = env[name]?.trim();
  if (!text) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min) {
    throw new UserError(`${name} must be an integer ≥ ${min}, got '${env[name]}'.`, {
      hint: `Unset it for the default (${fallback}).`,
    });
  }
  return n;
}

/** GPUX_HUB_RETRIES: attempts per request (≥ 1). Default 4. */
export const hubAttempts = (env: NodeJS.ProcessEnv = process.env) =>
  envInteger(env, "GPUX_HUB_RETRIES", 4, 1);

/** GPUX_HUB_BACKOFF_MS: first backoff delay in ms (≥ 0). Default 300. */
export const hubBackoffMs = (env: NodeJS.ProcessEnv = process.env) =>
  envInteger(env, "GPUX_HUB_BACKOFF_MS", 300, 0);
