import { envSettings } from "../util/settings.js";
import { exchange, type HttpAnswer, type RequestBody } from "./http-exchange.js";

export type { BodySink, HttpAnswer, RequestBody } from "./http-exchange.js";

export interface HttpGetOptions {
  headers?: Record<string, string>;
  /** Sent as a bearer token to `tokenOrigin` only; redirects to other hosts (the CDN) go without it. */
  token?: string;
  tokenOrigin?: string;
  /** A whole Authorization header (Basic, or a registry's Bearer token) for `tokenOrigin` only, when no token. */
  authorization?: string;
  /**
   * Milliseconds the connection may stay silent (no headers, no body bytes) before it is cut with an error, so
   * a stalled server never hangs a pull. Default HF_HUB_DOWNLOAD_TIMEOUT seconds (as huggingface_hub), else 10.
   */
  idleTimeoutMs?: number;
}

/** Redirects followed before giving up (a loop, or a mirror gone wrong). */
const maxRedirects = 5;

export interface HttpRequestOptions extends HttpGetOptions {
  /** Default GET. */
  method?: string;
  body?: RequestBody;
}

/**
 * One request over HTTP/1.1, plain or TLS, on a kept-alive connection (see HttpConnection; through the proxy
 * HTTPS_PROXY / HTTP_PROXY name), with the answer's body handed to a sink straight from the connection's read
 * buffer. GET and HEAD follow redirects; other methods hand a 3xx to the caller, as a body is never sent on
 * somewhere else unasked. The caller reads the body or discards it.
 */
export async function httpRequest(url: string | URL, options: HttpRequestOptions = {}): Promise<HttpAnswer> {
  const method = options.method ?? "GET";
  const follows = method === "GET" || method === "HEAD";
  let current = new URL(url);
  for (let hop = 0; ; hop++) {
    if (current.protocol !== "http:" && current.protocol !== "https:")
      throw new Error(`cannot download from a ${current.protocol} URL`);
    const headers: Record<string, string> = { "user-agent": "gpux", ...options.headers };
    if (current.origin === options.tokenOrigin) {
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      else if (options.authorization) headers.authorization = options.authorization;
    }
    const answer = await exchange(
      current,
      { method, headers, body: options.body },
      options.idleTimeoutMs ?? envSettings.downloadIdleTimeoutMs(),
    );
    const location = answer.headers.location;
    if (follows && answer.status >= 300 && answer.status < 400 && location) {
      answer.discard();
      if (hop >= maxRedirects) throw new Error(`too many redirects from ${String(url)}`);
      current = new URL(location, current);
      continue;
    }
    return answer;
  }
}

/** A GET for large downloads (httpRequest's default). */
export const httpGet = (url: string, options: HttpGetOptions = {}) => httpRequest(url, options);

/**
 * The whole body of a small answer (an API's JSON); undefined when it is larger than `maxBytes` (the connection
 * is then closed), so that a hostile server cannot fill memory.
 */
export async function readBodyBytes(answer: HttpAnswer, maxBytes: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let length = 0;
  const tooLarge = new Error(`the answer is larger than ${maxBytes} bytes`);
  try {
    await answer.readBody((chunk) => {
      length += chunk.length;
      if (length > maxBytes) throw tooLarge;
      chunks.push(Buffer.from(chunk));
    });
  } catch (error) {
    if (error === tooLarge) return undefined;
    throw error;
  }
  return Buffer.concat(chunks);
}
