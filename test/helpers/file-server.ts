/**
 * A plain web server for URL pulls: files from a map, with Range requests answered as static servers do (206
 * and Content-Range), on 127.0.0.1. It records each request and the bytes sent per file, and can cut one
 * answer mid-file (the connection destroyed, or left silent, after N bytes of a longer body) to exercise a
 * resume.
 *
 *   const server = await serveFiles({ "/m/model.onnx": bytes });
 *   server.cutOnce = { path: "/m/model.onnx", bytes: 1000 };
 */
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FileServer {
  url: string;
  files: Map<string, Uint8Array>;
  /** `GET /path` plus ` range=…` when the request had one. */
  requests: string[];
  bytesSent: Map<string, number>;
  /** The next answer for `path` with more than `bytes` body bytes stops there, and the socket is destroyed. */
  cutOnce?: { path: string; bytes: number };
  /** As cutOnce, but the connection is then held open and silent (a stalled server, for killing the client). */
  stallOnce?: { path: string; bytes: number };
  close(): Promise<void>;
}

function send(res: ServerResponse, body: Uint8Array, server: FileServer, path: string): void {
  const count = (n: number) => server.bytesSent.set(path, (server.bytesSent.get(path) ?? 0) + n);
  // a probe of the first byte is answered whole: a fault is for a body longer than where it strikes
  const applies = (fault?: { path: string; bytes: number }) =>
    fault?.path === path && body.length > fault.bytes ? fault : undefined;
  const cut = applies(server.cutOnce);
  const stall = applies(server.stallOnce);
  const fault = cut ?? stall;
  if (!fault) {
    count(body.length);
    res.end(body);
    return;
  }
  if (cut) server.cutOnce = undefined;
  else server.stallOnce = undefined;
  const part = body.subarray(0, fault.bytes);
  count(part.length);
  res.write(part, () => {
    if (cut) res.socket?.destroy();
  });
}

export async function serveFiles(files: Record<string, Uint8Array | string>): Promise<FileServer> {
  const server: FileServer = {
    url: "",
    files: new Map(Object.entries(files).map(([p, b]) => [p, typeof b === "string" ? Buffer.from(b) : b])),
    requests: [],
    bytesSent: new Map(),
    close: async () => undefined,
  };
  const http = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const range = req.headers.range;
    server.requests.push(`${req.method} ${path}${range ? ` range=${range}` : ""}`);
    const body = server.files.get(path);
    if (!body) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found");
      return;
    }
    const match = range ? /^bytes=(\d+)-(\d*)$/.exec(range) : null;
    if (match) {
      const start = Number(match[1]);
      const end = match[2] ? Math.min(Number(match[2]), body.length - 1) : body.length - 1;
      if (start >= body.length) {
        res.writeHead(416, { "content-range": `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, {
        "content-range": `bytes ${start}-${end}/${body.length}`,
        "content-length": end - start + 1,
        etag: `"v${body.length}"`,
      });
      send(res, body.subarray(start, end + 1), server, path);
      return;
    }
    res.writeHead(200, { "content-length": body.length, etag: `"v${body.length}"` });
    send(res, body, server, path);
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  server.url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  server.close = () =>
    new Promise((resolve) => {
      http.closeAllConnections();
      http.close(() => resolve());
    });
  return server;
}
