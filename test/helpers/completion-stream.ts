import assert from "node:assert/strict";

/** A streamed `/v1/completions` answer read as raw server-sent events, as `curl -N` shows them. */
export async function openCompletionStream(url: string, body: object) {
  const response = await fetch(`${url}v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...body, stream: true }),
  });
  assert.equal(response.status, 200);
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = "";
  /** The events received so far once `count` have come, or all of them once the server closed the stream. */
  const events = async (count = Number.POSITIVE_INFINITY): Promise<string[]> => {
    for (;;) {
      const parts = text.split("\n\n").slice(0, -1);
      if (parts.length >= count) return parts;
      const { done, value } = await reader.read();
      if (done) return parts;
      text += decoder.decode(value, { stream: true });
    }
  };
  return { events, all: () => text };
}

/** A greedy `/v1/completions` body for the tiny qwen3 fixture served as `qwen3`. */
export const greedyCompletion = (prompt: string, maxTokens: number) => ({
  model: "qwen3",
  prompt,
  temperature: 0,
  max_tokens: maxTokens,
});
