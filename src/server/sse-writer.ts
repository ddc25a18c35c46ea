import type { FastifyReply } from "fastify";

/** A server-sent event stream in the format OpenAI's streaming answers use. */
export interface EventStream {
  /** Aborted as soon as the client goes away before the stream ended: stop generating for it. */
  readonly signal: AbortSignal;
  /** Write `data: <json>\n\n`; waits while the socket's buffer is full; does nothing once closed. */
  send(data: unknown): Promise<void>;
  /** Write `data: [DONE]\n\n` and end the answer. */
  end(): void;
  /** Write one error event (OpenAI's `{"error": …}` body), then `[DONE]`, and end the answer. */
  fail(error: unknown): void;
}

const sseHeaders = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  // proxies such as nginx buffer answers unless told not to, which would hold tokens back
  "x-accel-buffering": "no",
};

/**
 * Take over the reply and stream events on it. Headers set on the reply so far (CORS, `connection: close`
 * while shutting down) are kept. The caller must not send anything else on this reply.
 */
export function openEventStream(reply: FastifyReply): EventStream {
  reply.hijack();
  const raw = reply.raw;
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value !== undefined) raw.setHeader(name, value);
  }
  raw.writeHead(200, sseHeaders);
  // Events are small and latency matters more than packets: send each as soon as it is written.
  raw.socket?.setNoDelay(true);
  const controller = new AbortController();
  // 'close' also fires after a normal end; only a close before the end is the client going away.
  raw.on("close", () => {
    if (!raw.writableEnded) controller.abort(new Error("the client closed the connection"));
  });
  const open = () => !controller.signal.aborted && !raw.writableEnded;
  const write = (text: string): Promise<void> => {
    if (!open()) return Promise.resolve();
    if (raw.write(text)) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        raw.off("drain", done);
        raw.off("close", done);
        resolve();
      };
      raw.on("drain", done);
      raw.on("close", done);
    });
  };
  const finish = () => {
    if (!open()) return;
    raw.end("data: [DONE]\n\n");
  };
  return {
    signal: controller.signal,
    send: (data) => write(`data: ${JSON.stringify(data)}\n\n`),
    end: finish,
    fail(error) {
      void write(`data: ${JSON.stringify(error)}\n\n`);
      finish();
    },
  };
}
