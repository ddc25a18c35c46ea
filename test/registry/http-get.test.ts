import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { join } from "node:path";
import { after, test } from "node:test";
import { httpGet } from "../../src/net/http-request.js";
import { runCli } from "../helpers/cli.js";
import { startFakeHub } from "../helpers/fake-hub.js";
import { onnxRepo } from "../helpers/fake-hub-repos.js";
import { tempDir } from "../helpers/temp-dir.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A TCP server on 127.0.0.1 for one test: `onConnection` speaks raw bytes. Its URL is returned; when the test
 * ends its connections are closed from this side (the client keeps idle ones for seconds) and it stops.
 */
async function listenRaw(onConnection: (socket: Socket) => void): Promise<string> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.setNoDelay(true);
    socket.on("error", () => undefined);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  after(() => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/file`;
}

/** A server that answers the first request of each connection with `script` (an HTTP server gone wrong). */
function rawServer(script: (socket: Socket) => Promise<void>): Promise<string> {
  return listenRaw((socket) =>
    socket.once("data", () => {
      script(socket).catch(() => socket.destroy());
    }),
  );
}

/** Writes `text` a few bytes at a time, so that every boundary lands mid-line or mid-chunk somewhere. */
async function dribble(socket: Socket, text: string | Buffer, step = 3): Promise<void> {
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; at += step) {
    socket.write(bytes.subarray(at, at + step));
    await sleep(1);
  }
}

async function receive(url: string): Promise<{ status: number; body: Buffer }> {
  const answer = await httpGet(url, { idleTimeoutMs: 5000 });
  const chunks: Buffer[] = [];
  await answer.readBody((chunk) => {
    chunks.push(Buffer.from(chunk));
  });
  return { status: answer.status, body: Buffer.concat(chunks) };
}

test("chunked bodies with extensions and trailers decode to the exact bytes, however the reads split", async () => {
  const url = await rawServer(async (socket) => {
    await dribble(
      socket,
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
        "5;name=value\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nx-trailer: yes\r\n\r\n",
    );
    await sleep(50);
    socket.end();
  });
  const { status, body } = await receive(url);
  assert.equal(status, 200);
  assert.equal(body.toString(), "hello 0123456789");
});

test("a body without a length ends when the server closes; 1xx answers are skipped", async () => {
  const url = await rawServer(async (socket) => {
    await dribble(
      socket,
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nX-A: 1\r\nX-A: 2\r\n\r\nuntil the end",
      4,
    );
    socket.end();
  });
  const answer = await httpGet(url);
  assert.equal(answer.headers["x-a"], "1, 2");
  let text = "";
  await answer.readBody((chunk) => {
    text += Buffer.from(chunk).toString();
  });
  assert.equal(text, "until the end");
});

test("a content-length body is cut at its length; one cut short is an error naming the bytes", async () => {
  const exact = await rawServer(async (socket) => {
    socket.write("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfour and more");
  });
  assert.equal((await receive(exact)).body.toString(), "four");
  const short = await rawServer(async (socket) => {
    await dribble(socket, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nfour");
    socket.end();
  });
  await assert.rejects(receive(short), /closed after 4 of 10 body bytes/);
});

test("broken answers are errors, never hangs: not HTTP, huge headers, bad chunks, silence", async () => {
  const cases: Array<[(socket: Socket) => Promise<void>, RegExp]> = [
    [async (s) => void s.end("SSH-2.0-OpenSSH\r\n\r\n"), /not an HTTP\/1\.1 answer/],
    [async (s) => void s.end(`HTTP/1.1 200 OK\r\nX: ${"a".repeat(70_000)}\r\n\r\n`), /headers are too large/],
    [async (s) => void s.end("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"), /invalid content-length/],
    [
      async (s) => void s.end("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"),
      /unsupported transfer-encoding/,
    ],
    [
      async (s) => void s.end("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
      /invalid chunk size/,
    ],
    [
      async (s) => void s.end("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n"),
      /longer than its declared size/,
    ],
    [async (s) => void s.end("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nab"), /mid-chunk/],
    [async (s) => void s.end("HTTP/1.1 2"), /closed before the response headers/],
    [async (s) => void s.write("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc"), /no data for 0\.2 s/],
  ];
  for (const [script, error] of cases) {
    const url = await rawServer(script);
    await assert.rejects(
      (async () => {
        const answer = await httpGet(url, { idleTimeoutMs: 200 });
        await answer.readBody(() => undefined);
      })(),
      error,
    );
  }
});

test("a sink that throws ends the download with its error and closes the connection", async () => {
  let closed = false;
  const url = await rawServer(async (socket) => {
    socket.on("close", () => {
      closed = true;
    });
    socket.write("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n");
    socket.write(Buffer.alloc(1000));
  });
  const answer = await httpGet(url);
  await assert.rejects(
    answer.readBody(() => {
      throw new Error("disk full");
    }),
    /disk full/,
  );
  for (let i = 0; i < 100 && !closed; i++) await sleep(10);
  assert.ok(closed, "the connection stayed open");
});

/** A server that calls `answer` for each request of a connection (the nth on it), and counts connections. */
async function countingServer(
  answer: (socket: Socket, nth: number) => void,
): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  const url = await listenRaw((socket) => {
    connections++;
    let pending = "";
    let served = 0;
    socket.on("data", (data) => {
      pending += data.toString("latin1");
      while (pending.includes("\r\n\r\n")) {
        pending = pending.slice(pending.indexOf("\r\n\r\n") + 4);
        answer(socket, ++served);
      }
    });
  });
  return { url, connections: () => connections };
}

test("requests to one origin share a kept-alive connection, unless the server says close", async () => {
  const keep = await countingServer((socket) =>
    socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
  );
  for (let i = 0; i < 3; i++) assert.equal((await receive(keep.url)).body.toString(), "ok");
  assert.equal(keep.connections(), 1);
  const close = await countingServer((socket) =>
    socket.end("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"),
  );
  for (let i = 0; i < 3; i++) assert.equal((await receive(close.url)).body.toString(), "ok");
  assert.equal(close.connections(), 3);
});

test("a kept connection that the server closed while idle is replaced without an error", async () => {
  const server = await countingServer((socket) => {
    socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    // the server's keep-alive timeout, silently, after the answer
    setTimeout(() => socket.destroy(), 20);
  });
  assert.equal((await receive(server.url)).body.toString(), "ok");
  await sleep(60);
  assert.equal((await receive(server.url)).body.toString(), "ok");
  assert.equal(server.connections(), 2);
});

test("a request that meets a kept connection closing under it is sent once more on a new one", async () => {
  // the race a keep-alive client cannot avoid: the server gives up on the connection as the request arrives
  const server = await countingServer((socket, nth) => {
    if (nth === 1) socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    else socket.destroy();
  });
  assert.equal((await receive(server.url)).body.toString(), "ok");
  assert.equal((await receive(server.url)).body.toString(), "ok");
  assert.equal(server.connections(), 2);
  // a new connection that closes before answering is an error, not retried forever
  const broken = await countingServer((socket) => socket.destroy());
  await assert.rejects(receive(broken.url), /closed before the response headers/);
  assert.equal(broken.connections(), 1);
});

test("redirects are followed (relative ones too), and a loop ends after 5 with an error", async () => {
  let requests = 0;
  const chain = await countingServer((socket, nth) => {
    requests++;
    if (nth === 1) socket.write("HTTP/1.1 302 Found\r\nLocation: /next\r\nContent-Length: 0\r\n\r\n");
    else socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  });
  assert.equal((await receive(chain.url)).body.toString(), "ok");
  assert.equal(requests, 2);
  let loops = 0;
  const loop = await countingServer((socket) => {
    loops++;
    socket.write("HTTP/1.1 301 Moved\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n");
  });
  await assert.rejects(receive(loop.url), /too many redirects/);
  assert.equal(loops, 6, "the first request and 5 redirects");
});

test("header values with line breaks are refused before anything is sent", async () => {
  await assert.rejects(
    httpGet("http://127.0.0.1:9/", { token: "a\r\nx: y", tokenOrigin: "http://127.0.0.1:9" }),
    {
      message: /the authorization header contains a line break/,
    },
  );
});

test("gpux pull over HTTPS, trusting the hub's certificate through NODE_EXTRA_CA_CERTS", async () => {
  const tls = join(import.meta.dirname, "..", "fixtures", "tls");
  const hub = await startFakeHub({
    repos: [onnxRepo("org/Secure", { pipelineTag: null })],
    tls: {
      key: readFileSync(join(tls, "key.pem"), "utf8"),
      cert: readFileSync(join(tls, "cert.pem"), "utf8"),
    },
  });
  after(() => hub.close());
  assert.match(hub.url, /^https:/);
  const home = tempDir();
  const env = {
    HF_ENDPOINT: hub.url,
    HF_HUB_CACHE: join(home, "hub"),
    GPUX_HOME: join(home, "gpux"),
    HF_TOKEN: "",
  };
  const untrusted = await runCli(["pull", "org/Secure"], { env });
  assert.notEqual(untrusted.code, 0, "a certificate nobody vouches for was accepted");
  const result = await runCli(["pull", "org/Secure"], {
    env: { ...env, NODE_EXTRA_CA_CERTS: join(tls, "cert.pem") },
  });
  assert.equal(result.code, 0, result.stderr);
  assert.ok(hub.stats.bytesServed > 0, "no file came over the HTTPS connection");
});
