import { createServer, type IncomingMessage } from "node:http";
import { connect, type Socket } from "node:net";

export interface TestProxy {
  /** http://127.0.0.1:PORT */
  url: string;
  /** host:port of every tunnel opened (CONNECT accepted), in order. */
  tunnels: string[];
  /** CONNECT requests refused for missing or wrong credentials. */
  refused: number;
  close(): Promise<void>;
}

/**
 * A forwarding HTTP proxy on 127.0.0.1 that only tunnels (CONNECT), as corporate proxies do for TLS; with
 * `credentials` ("user:password") it answers 407 to a CONNECT without the matching Proxy-Authorization.
 */
export async function startTestProxy(options: { credentials?: string } = {}): Promise<TestProxy> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  };
  const expected = options.credentials && `Basic ${Buffer.from(options.credentials).toString("base64")}`;
  const proxy: TestProxy = { url: "", tunnels: [], refused: 0, close: async () => {} };
  const server = createServer((_request, response) => {
    response.writeHead(405, { "content-type": "text/plain" }).end("this proxy only tunnels (CONNECT)\n");
  });
  server.on("connection", track);
  server.on("connect", (request: IncomingMessage, client: Socket, head: Buffer) => {
    if (expected && request.headers["proxy-authorization"] !== expected) {
      proxy.refused++;
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nproxy-authenticate: Basic realm="test"\r\n\r\n',
      );
      return;
    }
    const [host = "", port = ""] = (request.url ?? "").split(/:(?=\d+$)/);
    proxy.tunnels.push(request.url ?? "");
    const upstream = connect(Number(port), host.replace(/^\[(.*)\]$/, "$1"));
    track(upstream);
    upstream.on("connect", () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on("error", () => client.end("HTTP/1.1 502 Bad Gateway\r\n\r\n"));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  proxy.url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return proxy;
}
