/** Raw HTTP/1.1 over a TCP socket, for what fetch hides: stalled uploads, idle keep-alive, resets. */
import { connect, type Socket } from "node:net";

export interface RawConnection {
  socket: Socket;
  /** Everything received so far. */
  received: () => string;
  /** Resolves when the server ends or resets the connection: "end", or the error code. */
  closed: Promise<string>;
}

/** Open a connection to the server at `url` (http://host:port/). */
export function openConnection(url: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    let data = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      data += chunk;
    });
    const closed = new Promise<string>((done) => {
      socket.on("error", (error: NodeJS.ErrnoException) => done(error.code ?? "error"));
      socket.on("close", () => done("end"));
    });
    socket.once("connect", () => resolve({ socket, received: () => data, closed }));
    socket.once("error", reject);
  });
}

/** A request head (and optional body) as bytes on the wire. */
export function requestText(
  method: string,
  path: string,
  options: { body?: string; contentLength?: number; headers?: Record<string, string> } = {},
): string {
  const headers: Record<string, string> = { host: "127.0.0.1", ...options.headers };
  if (options.body !== undefined || options.contentLength !== undefined) {
    headers["content-type"] ??= "application/json";
    headers["content-length"] = String(options.contentLength ?? Buffer.byteLength(options.body ?? ""));
  }
  const head = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
  return `${method} ${path} HTTP/1.1\r\n${head.join("")}\r\n${options.body ?? ""}`;
}

/** Wait until `predicate` holds on what the connection received (polling), or fail after `ms`. */
export async function waitFor(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Status code of the first response in `text`, or undefined when none arrived. */
export function statusOf(text: string): number | undefined {
  const match = /^HTTP\/1\.1 (\d{3})/.exec(text);
  return match ? Number(match[1]) : undefined;
}
