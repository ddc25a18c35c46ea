import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { type AddressInfo, createServer as createTcpServer, type Socket } from "node:net";
import { join } from "node:path";
import { after, test } from "node:test";
import { type HttpAnswer, httpRequest, readBodyBytes } from "../../src/net/http-request.js";
import { tempDir } from "../helpers/temp-dir.js";

// The requests the OCI client sends (HEAD, POST, PUT of a file or bytes) over net/'s kept-alive connections.

const text = async (answer: HttpAnswer) => (await readBodyBytes(answer, 1 << 20))?.toString() ?? "";

test("a file body streams whole; HEAD answers end at their headers; one connection carries it all", async () => {
  let connections = 0;
  const server = createServer((req, res) => {
    if (req.method === "HEAD") {
      // a HEAD answer declares the length of a body it does not send
      res.writeHead(200, { "content-length": "123456" }).end();
      return;
    }
    const hash = createHash("sha256");
    let length = 0;
    req.on("data", (chunk: Buffer) => {
      hash.update(chunk);
      length += chunk.length;
    });
    req.on("end", () =>
      res
        .writeHead(201, { "content-type": "application/json" })
        .end(JSON.stringify({ length, declared: req.headers["content-length"], sha256: hash.digest("hex") })),
    );
  });
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/upload`;
  const content = randomBytes(5 << 20);
  const file = join(tempDir(), "blob");
  writeFileSync(file, content);
  const sent: number[] = [];

  const put = await httpRequest(url, {
    method: "PUT",
    body: { file, size: content.length, onBytes: (bytes) => sent.push(bytes) },
  });
  assert.equal(put.status, 201);
  assert.deepEqual(JSON.parse(await text(put)), {
    length: content.length,
    declared: String(content.length),
    sha256: createHash("sha256").update(content).digest("hex"),
  });
  assert.equal(sent.at(-1), content.length, "progress reaches the whole size");

  const head = await httpRequest(url, { method: "HEAD", idleTimeoutMs: 2000 });
  assert.equal(head.status, 200);
  assert.equal(head.headers["content-length"], "123456");
  assert.equal(await text(head), "", "no body is awaited after a HEAD");

  const small = await httpRequest(url, { method: "POST", body: Buffer.from("{}") });
  assert.equal(JSON.parse(await text(small)).length, 2);
  assert.equal(connections, 1);
});

test("an answer that comes before the body is sent stops the upload, and its connection is not reused", async () => {
  const sockets: Socket[] = [];
  let connections = 0;
  const server = createTcpServer((socket) => {
    sockets.push(socket);
    connections++;
    socket.on("error", () => undefined);
    socket.once("data", () => {
      if (connections > 1) {
        socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        return;
      }
      // a registry refusing the upload at once (no credentials), reading none of the body
      socket.pause();
      socket.write("HTTP/1.1 401 Unauthorized\r\nContent-Length: 4\r\n\r\nnope");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  after(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/upload`;
  const file = join(tempDir(), "large");
  const size = 64 << 20;
  writeFileSync(file, Buffer.alloc(size));
  let sent = 0;
  const refused = await httpRequest(url, {
    method: "PUT",
    body: { file, size, onBytes: (bytes) => (sent = bytes) },
    idleTimeoutMs: 5000,
  });
  assert.equal(refused.status, 401);
  assert.equal(await text(refused), "nope");
  assert.ok(sent < size, `the upload stopped (${sent} of ${size} bytes sent)`);
  const next = await httpRequest(url, { idleTimeoutMs: 5000 });
  assert.equal(await text(next), "ok");
  assert.equal(connections, 2, "a half-sent request's connection carries nothing more");
});
