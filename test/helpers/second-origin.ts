/**
 * A second HTTP origin on 127.0.0.1 (another port) for redirect tests: it records every request, with its
 * Authorization header, and either forwards it to the same path on `target` (a CDN in front of the fake hub)
 * or answers 302 to that path there (a Hub that sends its callers elsewhere).
 */
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  path: string;
  authorization?: string;
}

export interface SecondOrigin {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export interface SecondOriginOptions {
  /** Base URL requests are forwarded or redirected to; read per request, so it may be set after start. */
  target: () => string;
  /** Answer 302 to the target instead of forwarding. Default false. */
  redirect?: boolean;
}

export async function startSecondOrigin(options: SecondOriginOptions): Promise<SecondOrigin> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const path = req.url ?? "/";
    requests.push({ method: req.method ?? "GET", path, authorization: req.headers.authorization });
    const target = new URL(path, options.target());
    if (options.redirect) {
      res.writeHead(302, { location: target.href, "content-length": "0" }).end();
      return;
    }
    const { host: _host, ...headers } = req.headers;
    const forward = request(target, { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
