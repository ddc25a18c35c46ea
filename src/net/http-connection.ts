import { isIP, connect as netConnect, type Socket } from "node:net";
import { type ConnectionOptions, connect as tlsConnect } from "node:tls";
import { proxyFor } from "./proxy-settings.js";
import { openTunnel } from "./proxy-tunnel.js";
import { socketAddress } from "./socket-address.js";

/** Reads of up to 1 MiB: a few hundred reads for a large file instead of thousands of small stream chunks. */
const readBufferBytes = 1 << 20;
/** An idle kept-alive connection is closed after this long (servers commonly close theirs after 5 s). */
const keepIdleMs = 4000;

/** Whoever is using a connection now: its bytes, its close, and its silence go there. */
export interface ConnectionUser {
  onData(data: Buffer): void;
  onClose(failure: Error | undefined): void;
  onTimeout(): void;
}

/**
 * One HTTP/1.1 connection, plain or TLS, read straight into a reused 1 MiB buffer (`onread`): node:http's stream
 * of freshly allocated chunks costs several times the CPU per byte. Between requests it waits in a per-origin
 * pool, so the small files of a repo do not each pay a TCP and TLS handshake. Through a proxy it runs inside a
 * CONNECT tunnel (see openConnection); TLS over a tunnel reads in ordinary chunks, as Node offers no `onread` there.
 */
export class HttpConnection {
  readonly socket: Socket;
  /** Requests this connection has carried before the current one. */
  served = 0;
  private user?: ConnectionUser;
  private failure?: Error;

  /**
   * `tunnel`: a connection through a proxy to the origin's host and port (openTunnel). `poolKey`: which idle
   * connections this one may stand in for (the origin, and the proxy when there is one).
   */
  constructor(
    readonly origin: string,
    tunnel?: Socket,
    readonly poolKey = origin,
  ) {
    const url = new URL(origin);
    const https = url.protocol === "https:";
    const { host, port } = socketAddress(url);
    const onread = {
      buffer: Buffer.allocUnsafe(readBufferBytes),
      callback: (length: number, buffer: Buffer) => {
        this.user?.onData(buffer.subarray(0, length));
        // never paused: a paused TLS socket can report its close before handing over the bytes it holds
        return true;
      },
    };
    const servername = isIP(host) ? undefined : host;
    if (tunnel) {
      this.socket = https ? tlsConnect({ socket: tunnel, servername }) : tunnel;
      this.socket.on("data", (chunk: Buffer) => this.user?.onData(chunk));
    } else {
      this.socket = https
        ? // tls.connect takes every net.connect option, onread included; its type just does not list it
          tlsConnect({ host, port, servername, onread } as ConnectionOptions)
        : netConnect({ host, port, onread });
    }
    this.socket.on("error", (error) => {
      this.failure = error;
    });
    this.socket.on("timeout", () => (this.user ? this.user.onTimeout() : this.socket.destroy()));
    this.socket.on("close", () => {
      removeIdle(this);
      this.user?.onClose(this.failure);
    });
  }

  /** Hands the connection to `user`, with `idleMs` of silence allowed before `onTimeout`. */
  attach(user: ConnectionUser, idleMs: number): void {
    this.user = user;
    this.socket.ref();
    this.socket.setTimeout(idleMs);
  }

  /** The request is done and the answer fully read: keep the connection for the next request to its origin. */
  release(): void {
    this.user = undefined;
    this.served++;
    if (this.socket.destroyed) return;
    this.socket.setTimeout(keepIdleMs);
    // an idle connection never keeps the process alive
    this.socket.unref();
    const list = idle.get(this.poolKey) ?? [];
    list.push(this);
    idle.set(this.poolKey, list);
  }

  /** Closes the connection; its user hears nothing more. */
  close(): void {
    this.user = undefined;
    this.socket.destroy();
  }
}

const idle = new Map<string, HttpConnection[]>();

function removeIdle(connection: HttpConnection): void {
  const list = idle.get(connection.poolKey);
  const at = list?.indexOf(connection) ?? -1;
  if (list && at >= 0) list.splice(at, 1);
}

/**
 * A new connection to `origin`: direct, or through the proxy HTTPS_PROXY / HTTP_PROXY name for it (NO_PROXY
 * respected), tunnelled with CONNECT for plain HTTP and TLS alike. `timeoutMs` bounds the wait for the proxy.
 */
export async function openConnection(
  origin: string,
  timeoutMs: number,
  proxy = proxyFor(new URL(origin)),
): Promise<HttpConnection> {
  if (!proxy) return new HttpConnection(origin);
  const { host, port } = socketAddress(new URL(origin));
  const tunnel = await openTunnel(proxy, host, port, timeoutMs);
  return new HttpConnection(origin, tunnel, poolKey(origin, proxy));
}

const poolKey = (origin: string, proxy: URL | undefined) => (proxy ? `${origin} via ${proxy.href}` : origin);

/** An idle connection to `origin` (by the same route) if one is kept, else a new one (openConnection). */
export async function takeConnection(origin: string, timeoutMs: number): Promise<HttpConnection> {
  const proxy = proxyFor(new URL(origin));
  const list = idle.get(poolKey(origin, proxy));
  for (let reused = list?.pop(); reused; reused = list?.pop()) {
    if (!reused.socket.destroyed) return reused;
  }
  return openConnection(origin, timeoutMs, proxy);
}
