/**
 * The project's own stand-in for the token servers of Docker Hub, GHCR and Harbor: a reverse proxy in front
 * of a real registry that answers 401 with `WWW-Authenticate: Bearer realm=…,service=…,scope=…` until the
 * request carries a token it issued at `/token` (to the user and password given, if any), then forwards.
 * It can also slow blob bodies down (to kill a pull mid-blob) and records what arrived.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Transform } from "node:stream";

export interface TokenProxy {
  host: string;
  url: string;
  /** Every request as `METHOD path`, with ` range=…` for blob GETs that had a Range header. */
  requests: string[];
  /** Scopes asked for at /token. */
  scopes: string[];
  /** Body bytes forwarded for blob GETs. */
  blobBytes: number;
  /** Bytes per second for blob bodies; 0 = no limit. */
  throttle: number;
  close(): Promise<void>;
}

export async function startTokenProxy(
  upstream: string,
  options: { users?: Record<string, string>; throttle?: number } = {},
): Promise<TokenProxy> {
  const issued = new Set<string>();
  const state: Omit<TokenProxy, "host" | "url" | "close"> = {
    requests: [],
    scopes: [],
    blobBytes: 0,
    throttle: options.throttle ?? 0,
  };
  let origin = "";
  const basicUser = (req: IncomingMessage) => {
    const match = /^Basic (.+)$/.exec(req.headers.authorization ?? "");
    if (!match) return undefined;
    const [user, ...rest] = Buffer.from(match[1] as string, "base64")
      .toString()
      .split(":");
    return options.users?.[user as string] === rest.join(":") ? user : undefined;
  };
  const token = (req: IncomingMessage, res: ServerResponse, url: URL) => {
    state.scopes.push(...url.searchParams.getAll("scope"));
    if (options.users && !basicUser(req)) {
      res.writeHead(401, { "content-type": "application/json" }).end('{"details":"bad credentials"}');
      return;
    }
    const value = randomBytes(12).toString("hex");
    issued.add(value);
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ token: value, expires_in: 300 }));
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const blobGet = req.method === "GET" && /\/blobs\/sha256:/.test(url.pathname);
    state.requests.push(
      `${req.method} ${url.pathname}${blobGet && req.headers.range ? ` range=${req.headers.range}` : ""}`,
    );
    if (url.pathname === "/token") return token(req, res, url);
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    if (!bearer || !issued.has(bearer)) {
      const repo = /^\/v2\/(.+?)\/(manifests|blobs|tags)\//.exec(url.pathname)?.[1];
      const actions = req.method === "GET" || req.method === "HEAD" ? "pull" : "pull,push";
      const scope = repo ? `,scope="repository:${repo}:${actions}"` : "";
      res
        .writeHead(401, {
          "www-authenticate": `Bearer realm="${origin}/token",service="gpux-test"${scope}`,
          "content-type": "application/json",
        })
        .end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    const headers = { ...req.headers };
    delete headers.authorization;
    const forward = request(`${upstream}${req.url}`, { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      if (!blobGet) return answer.pipe(res);
      const slow = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          state.blobBytes += chunk.length;
          if (!state.throttle) return callback(null, chunk);
          setTimeout(() => callback(null, chunk), (chunk.length / state.throttle) * 1000);
        },
      });
      answer.pipe(slow).pipe(res);
    });
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;
  return Object.assign(state, {
    host: `127.0.0.1:${port}`,
    url: origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  }) as TokenProxy;
}
