import { createReadStream } from "node:fs";
import { BodyDecoder } from "./http-body-decoder.js";
import {
  type ConnectionUser,
  type HttpConnection,
  openConnection,
  takeConnection,
} from "./http-connection.js";

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

/** What a request sends: bytes in memory, or a file streamed from disk (never read whole into memory). */
export type RequestBody = Buffer | { file: string; size: number; onBytes?: (sent: number) => void };

export interface HttpRequest {
  method: string;
  headers: Record<string, string>;
  body?: RequestBody;
}

/** Response headers larger than this are refused (a hostile or broken server). */
const maxHeaderBytes = 64 * 1024;

/** Reads of a file body: 1 MiB, as the connection reads, so a large upload is a few hundred socket writes. */
const fileChunkBytes = 1 << 20;

/** The connection ended before a single byte of the answer. */
class ClosedBeforeAnswer extends Error {
  constructor(cause?: Error) {
    super("the connection closed before the response headers", { cause });
  }
}

/**
 * One HTTP/1.1 request on a kept-alive connection to `url`'s origin (see HttpConnection); when the server had
 * closed that connection while it sat idle, once more on a new one (a body is sent again from its start).
 */
export async function exchange(url: URL, request: HttpRequest, idleMs: number): Promise<HttpAnswer> {
  const head = requestHead(url, request);
  const connection = await takeConnection(url.origin, idleMs);
  try {
    return await new HttpExchange(connection, head, request, idleMs).head;
  } catch (error) {
    if (connection.served === 0 || !(error instanceof ClosedBeforeAnswer)) throw error;
    return new HttpExchange(await openConnection(url.origin, idleMs), head, request, idleMs).head;
  }
}

const bodySize = (body: RequestBody) => (Buffer.isBuffer(body) ? body.length : body.size);

function requestHead(url: URL, request: HttpRequest): string {
  const headers = { ...request.headers };
  // a POST or PUT without a body says so: some proxies refuse one with neither length nor chunking
  if (request.body || !["GET", "HEAD"].includes(request.method))
    headers["content-length"] ??= String(request.body ? bodySize(request.body) : 0);
  let text = `${request.method} ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
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

/** One request on a connection: the request (and its body) out, the headers back, then the body on demand. */
class HttpExchange implements ConnectionUser {
  readonly head: Promise<HttpAnswer>;
  private headBytes: Buffer = Buffer.alloc(0);
  private decoder?: BodyDecoder;
  private keepAlive = false;
  /** False while a body is still being sent: the connection cannot carry another request before it ends. */
  private sent: boolean;
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
    head: string,
    private readonly request: HttpRequest,
    private readonly idleMs: number,
  ) {
    this.head = new Promise((resolve, reject) => {
      this.settleHead = { resolve, reject };
    });
    connection.attach(this, idleMs);
    const body = request.body;
    this.sent = !body || Buffer.isBuffer(body) || body.size === 0;
    // a small body goes in the same write as the head: one packet for a manifest or a config blob
    connection.socket.write(
      Buffer.isBuffer(body) ? Buffer.concat([Buffer.from(head, "latin1"), body]) : head,
    );
    if (body && !Buffer.isBuffer(body)) this.sendFile(body).catch((error) => this.end(error as Error));
  }

  /** Streams a file body, waiting for the socket to drain; stops when the server answered (or failed) first. */
  private async sendFile(body: { file: string; size: number; onBytes?: (sent: number) => void }) {
    const socket = this.connection.socket;
    let sent = 0;
    for await (const chunk of createReadStream(body.file, { highWaterMark: fileChunkBytes })) {
      if (this.ended !== undefined || this.decoder || socket.destroyed) return;
      sent += (chunk as Buffer).length;
      if (sent > body.size) throw new Error(`${body.file} grew while it was sent`);
      const drained = socket.write(chunk);
      // complete once its last byte is handed to the socket: the answer may arrive before the drain
      if (sent === body.size) this.sent = true;
      if (!drained) {
        await new Promise<void>((resolve) => {
          const done = () => {
            socket.off("drain", done);
            socket.off("close", done);
            resolve();
          };
          socket.on("drain", done);
          socket.on("close", done);
        });
      }
      body.onBytes?.(sent);
    }
    if (sent !== body.size) throw new Error(`${body.file} shrank while it was sent`);
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
    // an answer to HEAD, a 204 and a 304 have no body, whatever their content-length says (RFC 9110 6.4.1)
    const bodiless = this.request.method === "HEAD" || status === 204 || status === 304;
    this.decoder = new BodyDecoder(bodiless ? { "content-length": "0" } : headers);
    this.keepAlive = keepAlive;
    this.early = [Buffer.from(rest)];
    this.settleHead.resolve({
      status,
      headers,
      readBody: (sink) => this.readBody(sink),
      discard: () => this.end(null),
    });
    if (this.decoder.complete && rest.length === 0) this.end(null);
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
    // the connection carries the next request only after a cleanly finished answer to a fully sent request
    const reusable =
      error === null && this.sent && this.keepAlive && this.decoder?.complete && !this.decoder.overran;
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
