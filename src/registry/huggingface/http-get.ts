import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";

export interface HttpGetOptions {
  headers?: Record<string, string>;
  /** Sent as a bearer token to `tokenOrigin` only; redirects to other hosts (the CDN) go without it. */
  token?: string;
  tokenOrigin?: string;
  /** Redirects followed. Default 5. */
  maxRedirects?: number;
  /**
   * Milliseconds the connection may stay silent (no headers, no body bytes) before it is cut with an error, so
   * a stalled server never hangs a pull. Default HF_HUB_DOWNLOAD_TIMEOUT seconds (as huggingface_hub), else 10.
   */
  idleTimeoutMs?: number;
}

/** HF_HUB_DOWNLOAD_TIMEOUT (seconds, as huggingface_hub reads it) in milliseconds; 10 s when unset or invalid. */
export function downloadIdleTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const seconds = Number(env.HF_HUB_DOWNLOAD_TIMEOUT);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 10_000;
}

/**
 * A GET whose body is read straight from the socket (node:http), for large downloads: a fraction of the CPU per
 * byte that fetch's web streams cost. Follows redirects; the caller reads or destroys the response.
 */
export async function httpGet(url: string, options: HttpGetOptions = {}): Promise<IncomingMessage> {
  let current = new URL(url);
  for (let hop = 0; ; hop++) {
    const headers: Record<string, string> = { "user-agent": "gpux", ...options.headers };
    if (options.token && current.origin === options.tokenOrigin)
      headers.authorization = `Bearer ${options.token}`;
    const request = current.protocol === "https:" ? httpsRequest : httpRequest;
    const idleMs = options.idleTimeoutMs ?? downloadIdleTimeoutMs();
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = request(current, { method: "GET", headers }, resolve);
      req.on("error", reject);
      // The socket's idle timer covers the body too: a response that stops mid-file errors and is resumed.
      req.setTimeout(idleMs, () => req.destroy(new Error(`no data for ${idleMs / 1000} s`)));
      req.end();
    });
    const location = response.headers.location;
    if (response.statusCode && response.statusCode >= 300 && response.statusCode < 400 && location) {
      response.resume();
      if (hop >= (options.maxRedirects ?? 5)) throw new Error(`too many redirects from ${url}`);
      current = new URL(location, current);
      continue;
    }
    return response;
  }
}
