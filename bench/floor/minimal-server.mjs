/**
 * The least a Node server can do to answer bench/serve's /predict: JSON tensors in, one worker thread running
 * the same ONNX Runtime session (so the event loop stays free, as in gpux), logits out as JSON. No routing,
 * validation, batching, metrics or error handling. bench/serve runs it beside `gpux serve` to show what part
 * of the concurrency-1 overhead any Node HTTP server with an inference thread pays on this machine.
 *
 *   node bench/floor/minimal-server.mjs MODEL.onnx http|socket
 *
 * http: node:http. socket: a bare net server that reads one content-length request at a time (enough for the
 * bench's keep-alive client; not a real HTTP parser).
 */
import http from "node:http";
import net from "node:net";
import { Worker } from "node:worker_threads";

const [modelPath, front = "http"] = process.argv.slice(2);
const worker = new Worker(new URL("./minimal-worker.mjs", import.meta.url), { workerData: { modelPath } });
const waiting = new Map();
let nextId = 1;

function infer(bodyText) {
  const feeds = {};
  for (const [name, rows] of Object.entries(JSON.parse(bodyText))) {
    const flat = rows.flat();
    const data = new BigInt64Array(flat.length);
    for (let i = 0; i < flat.length; i++) data[i] = BigInt(flat[i]);
    feeds[name] = { data, dims: [rows.length, flat.length / rows.length] };
  }
  const id = nextId++;
  worker.postMessage(
    { id, feeds },
    Object.values(feeds).map((f) => f.data.buffer),
  );
  return new Promise((resolve) => waiting.set(id, resolve));
}

function answer(result) {
  const [rows, cols] = result.dims;
  const logits = Array.from({ length: rows }, (_, r) =>
    Array.from(result.data.subarray(r * cols, (r + 1) * cols)),
  );
  return { body: JSON.stringify({ logits }), timing: `compute;dur=${result.computeMs.toFixed(3)}` };
}

worker.on("message", (message) => {
  if (message.ready) return listen();
  const resolve = waiting.get(message.id);
  waiting.delete(message.id);
  resolve(message);
});

function httpFront() {
  return http.createServer((request, response) => {
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", async () => {
      const { body, timing } = answer(await infer(Buffer.concat(chunks).toString()));
      response.writeHead(200, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(body),
        "server-timing": timing,
      });
      response.end(body);
    });
  });
}

function socketFront() {
  return net.createServer((socket) => {
    socket.setNoDelay(true);
    let received = "";
    socket.on("data", async (chunk) => {
      received += chunk.toString("latin1");
      const headEnd = received.indexOf("\r\n\r\n");
      if (headEnd < 0) return;
      const length = Number(/content-length:\s*(\d+)/i.exec(received.slice(0, headEnd))?.[1] ?? 0);
      if (received.length < headEnd + 4 + length) return;
      const bodyText = Buffer.from(received.slice(headEnd + 4, headEnd + 4 + length), "latin1").toString();
      received = received.slice(headEnd + 4 + length);
      const { body, timing } = answer(await infer(bodyText));
      socket.write(
        `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nserver-timing: ${timing}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    });
  });
}

function listen() {
  const server = front === "socket" ? socketFront() : httpFront();
  server.listen(0, "127.0.0.1", () => console.log(`listening http://127.0.0.1:${server.address().port}/`));
  process.on("SIGTERM", () => process.exit(0));
}
