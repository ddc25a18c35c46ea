import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, test } from "node:test";
import Fastify from "fastify";
import { openEventStream } from "../../src/server/sse-writer.js";

/** A real server on 127.0.0.1 whose routes stream with the writer under test. */
const app = Fastify();
let aborted: (reason: string) => void = () => undefined;
const abortSeen = new Promise<string>((resolve) => {
  aborted = resolve;
});
let sentAfterAbort = 0;

app.addHook("onRequest", async (_request, reply) => {
  reply.header("access-control-allow-origin", "*"); // a header set before the stream must survive it
});
app.get("/three", async (_request, reply) => {
  const stream = openEventStream(reply);
  for (const n of [1, 2, 3]) await stream.send({ n, text: "é\n" });
  stream.end();
});
app.get("/fail", async (_request, reply) => {
  const stream = openEventStream(reply);
  await stream.send({ n: 1 });
  stream.fail({ error: { message: "boom", type: "server_error", param: null, code: null } });
});
app.get("/forever", async (_request, reply) => {
  const stream = openEventStream(reply);
  stream.signal.addEventListener("abort", () => aborted(String(stream.signal.reason)));
  while (!stream.signal.aborted) {
    await stream.send({ tick: Date.now() });
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  // writes after the client left are dropped, never thrown
  await stream.send({ late: true });
  sentAfterAbort += 1;
  stream.end();
});
await app.listen({ host: "127.0.0.1", port: 0 });
after(() => app.close());
const port = (app.server.address() as AddressInfo).port;

/** The raw bytes of an answer, as `curl -N` shows them. */
async function raw(path: string): Promise<{ status: number; headers: Headers; text: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, headers: response.headers, text: await response.text() };
}

describe("SSE writer over real HTTP", () => {
  test("each event is `data: <json>\\n\\n`, then `data: [DONE]`, with event-stream headers", async () => {
    const answer = await raw("/three");
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get("content-type"), "text/event-stream; charset=utf-8");
    assert.equal(answer.headers.get("cache-control"), "no-cache");
    assert.equal(answer.headers.get("access-control-allow-origin"), "*");
    assert.equal(
      answer.text,
      'data: {"n":1,"text":"é\\n"}\n\ndata: {"n":2,"text":"é\\n"}\n\ndata: {"n":3,"text":"é\\n"}\n\ndata: [DONE]\n\n',
    );
  });

  test("a failure is one error event, then [DONE]", async () => {
    const answer = await raw("/fail");
    assert.equal(
      answer.text,
      'data: {"n":1}\n\ndata: {"error":{"message":"boom","type":"server_error","param":null,"code":null}}\n\ndata: [DONE]\n\n',
    );
  });

  test("events arrive as they are written, and a client that disconnects aborts the signal", async () => {
    const start = performance.now();
    const first = await new Promise<string>((resolve, reject) => {
      const req = httpRequest({ host: "127.0.0.1", port, path: "/forever" }, (res) => {
        res.once("data", (chunk: Buffer) => {
          resolve(chunk.toString());
          req.destroy(); // the client goes away mid-stream
        });
      });
      req.on("error", () => undefined);
      req.setTimeout(5000, () => reject(new Error("no first event")));
      req.end();
    });
    assert.match(first, /^data: \{"tick":\d+\}\n\n/);
    const reason = await Promise.race([
      abortSeen,
      new Promise<string>((resolve) => setTimeout(() => resolve("no abort within 3 s"), 3000)),
    ]);
    assert.match(reason, /client closed the connection/);
    assert.ok(performance.now() - start < 2000, "the abort was seen promptly");
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(sentAfterAbort, 1, "the handler went on without a throw after the abort");
  });
});
