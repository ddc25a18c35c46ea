import { envSettings } from "../util/settings.js";
import { BodyDecoder } from "./http-body-decoder.js";
import {
  type ConnectionUser,
  type HttpConnection,
  openConnection,
  takeConnection,
} from "./http-connection.js";

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

/**
 * Receives a body chunk that is valid only during the call (the connection's read buffer is reused): hash,
 * write or copy it before returning. A throw ends the download with that error.
 */
export type BodySink = (chunk: Uint8Array) => void;

export interface HttpAnswer {
  status: number;
  /** Header names in lower case; a repeated header's values joined with ", ". */
  headers: Record<string, string>;
  /** Streams the body into `sink`; resolves once all of it arrived, rejects if the connection ends early. */
  readBody(sink: BodySink): Promise<void>;
  /** Closes the connection without reading the body. */
  discard(): void;
}

/** Redirects followed before giving up (a loop, or a mirror gone wrong). */
const maxRedirects = 5;

/** Response headers larger than this are refused (a hostile or broken server). */
const maxHeaderBytes = 64 * 1024;

/**
 * A GET for large downloads over HTTP/1.1, plain or TLS, with the body handed to a sink straight from the
 * connection's read buffer (see HttpConnection). Follows redirects; the caller reads the body or discards it.
 */
export async function httpGet(url: string, options: HttpGetOptions = {}): Promise<HttpAnswer> {
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
      headers,
      options.idleTimeoutMs ?? envSettings.downloadIdleTimeoutMs(),
    );
    const location = answer.headers.location;
    if (answer.status >= 300 && answer.status < 400 && location) {
      answer.discard();
      if (hop >= maxRedirects) throw new Error(`too many redirects from ${url}`);
      current = new URL(location, current);
      continue;
    }
    return answer;
  }
}

/** The connection ended before a single byte of the answer. */
class ClosedBeforeAnswer extends Error {
  constructor(cause?: Error) {
    super("the connection closed before the response headers", { cause });
  }
}

/** One request; on a kept-alive connection that the server closed while it sat idle, once more on a new one. */
async function exchange(url: URL, headers: Record<string, string>, idleMs: number): Promise<HttpAnswer> {
  const request = requestText(url, headers);
  const connection = await takeConnection(url.origin, idleMs);
  try {
    return await new HttpExchange(connection, request, idleMs).head;
  } catch (error) {
    if (connection.served === 0 || !(error instanceof ClosedBeforeAnswer)) throw error;
    return new HttpExchange(await openConnection(url.origin, idleMs), request, idleMs).head;
  }
}

function requestText(url: URL, headers: Record<string, string>): string {
  let text = `GET ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    if (/[\r\n]/.test(name + value)) throw new Error(`the ${name} header contains a line break`);
    text += `${name}: ${value}\r\n`;
  }
  return `${text}\r\n`;
}

function parseHead(text: string): { status: number; headers: Record<string, string>; keepAlive: boolean } {
  const [statusLine = "", ...lines] = text.split("\r\n");
  const match = /^HTTP\/1\.([01]) (\d{3})/.exec(statusLine);
  if (!match) throw new Error(`not an HTTP/1.1 answer: ${JSON.stringify(statusLine.slice(0, 80))}`);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  const keepAlive = match[1] === "1" && !/(^|,)\s*close\s*(,|$)/i.test(headers.connection ?? "");
  return { status: Number(match[2]), headers, keepAlive };
}

/** One request on a connection: headers first, then the body on demand. */
class HttpExchange implements ConnectionUser {
  readonly head: Promise<HttpAnswer>;
  private headBytes: Buffer = Buffer.alloc(0);
  private decoder?: BodyDecoder;
  private keepAlive = false;
  private sink?: BodySink;
  /** Copies of body bytes that arrived before anyone asked for them. */
  private early: Buffer[] = [];
  private settleHead!: { resolve: (answer: HttpAnswer) => void; reject: (error: Error) => void };
  private settleBody?: { resolve: () => void; reject: (error: Error) => void };
  /** Unset while the exchange runs; null once the body is complete (or discarded), else why it failed. */
  private ended?: Error | null;
  /** The connection closed after the headers but before readBody: how, for readBody to judge. */
  private closedBeforeRead?: { failure?: Error };

  constructor(
    private readonly connection: HttpConnection,
    request: string,
    private readonly idleMs: number,
  ) {
    this.head = new Promise((resolve, reject) => {
      this.settleHead = { resolve, reject };
    });
    connection.attach(this, idleMs);
    connection.socket.write(request);
  }

  onData(data: Buffer): void {
    try {
      if (!this.decoder) this.readHead(data);
      else if (this.sink) this.deliver(data);
      else this.early.push(Buffer.from(data));
    } catch (error) {
      this.end(error as Error);
    }
  }

  onTimeout(): void {
    this.end(new Error(`no data for ${this.idleMs / 1000} s`));
  }
  private readHead(data: Buffer): void {
    const searchFrom = Math.max(0, this.headBytes.length - 3);
    this.headBytes = Buffer.concat([this.headBytes, data]);
    const end = this.headBytes.indexOf("\r\n\r\n", searchFrom);
    if ((end < 0 ? this.headBytes.length : end) > maxHeaderBytes)
      throw new Error("the response headers are too large");
    if (end < 0) return;
    const { status, headers, keepAlive } = parseHead(this.headBytes.toString("latin1", 0, end));
    const rest = this.headBytes.subarray(end + 4);
    this.headBytes = Buffer.alloc(0);
    if (status >= 100 && status < 200) {
      this.readHead(rest);
      return;
    }
    this.decoder = new BodyDecoder(headers);
    this.keepAlive = keepAlive;
    this.early = [Buffer.from(rest)];
    this.settleHead.resolve({
      status,
      headers,
      readBody: (sink) => this.readBody(sink),
      discard: () => this.end(null),
    });
  }

  private readBody(sink: BodySink): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      this.settleBody = { resolve, reject };
    });
    this.sink = sink;
    const early = Buffer.concat(this.early);
    this.early = [];
    try {
      if (this.ended !== undefined) this.settle();
      else this.deliver(early);
      if (this.closedBeforeRead) this.onClose(this.closedBeforeRead.failure);
    } catch (error) {
      this.end(error as Error);
    }
    return done;
  }

  /** Feeds received bytes through the decoder to the sink, and ends the exchange once the body is complete. */
  private deliver(data: Buffer): void {
    const decoder = this.decoder as BodyDecoder;
    for (const piece of decoder.decode(data)) (this.sink as BodySink)(piece);
    if (decoder.complete) this.end(null);
  }

  private end(error: Error | null): void {
    if (this.ended !== undefined) return;
    this.ended = error;
    // the connection carries the next request only after a cleanly finished answer
    const reusable = error === null && this.keepAlive && this.decoder?.complete && !this.decoder.overran;
    if (reusable) this.connection.release();
    else this.connection.close();
    if (!this.decoder) this.settleHead.reject(error ?? new Error("the connection closed"));
    this.settle();
  }

  /** Settles a started readBody. */
  private settle(): void {
    const body = this.settleBody;
    this.settleBody = undefined;
    if (this.ended) body?.reject(this.ended);
    else body?.resolve();
  }

  onClose(failure: Error | undefined): void {
    if (this.ended !== undefined) return;
    if (this.decoder && !this.sink) {
      // judged once readBody has taken the bytes that came before the close
      this.closedBeforeRead = { failure };
      return;
    }
    if (!this.decoder)
      this.end(
        this.headBytes.length === 0
          ? new ClosedBeforeAnswer(failure)
          : (failure ?? new Error("the connection closed before the response headers")),
      );
    else if (this.decoder.endsAtClose && !failure) this.end(null);
    else this.end(failure ?? new Error(`the connection closed ${this.decoder.describeProgress()}`));
  }
}
