/**
 * The playground's chat view for text-generation models: a conversation streamed from
 * POST /v1/chat/completions (server-sent events read with fetch and a reader), the sampling settings, live
 * tokens/s and a stop button that aborts the request. Browser code, embedded in the page as text after the
 * page's `el` helper; it defines `window.gpuxChatView(info, headers)`, which returns the view's element.
 */

export const playgroundChatStyle = `
.chat-log{display:flex;flex-direction:column;gap:8px;margin:8px 0}
.chat-log .turn{padding:8px 12px;border-radius:8px;white-space:pre-wrap;max-width:85%}
.chat-log .user{align-self:flex-end;background:#2f6fed;color:#fff}.chat-log .assistant{align-self:flex-start;background:#f2f4f7}
.chat-settings{display:flex;gap:12px;flex-wrap:wrap}.chat-settings label{font-weight:400;font-size:13px}
.chat-settings input{width:90px;display:block}.chat button.secondary{background:#5b6475;margin-left:8px}.chat button:disabled{opacity:.5;cursor:default}
`;

export const playgroundChatScript = `
(() => {

  // OpenAI's stream: "data: <json>" events separated by blank lines, the last one "data: [DONE]".
  async function* streamEvents(response) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let data = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error("The answer ended before data: [DONE].");
      buffer += decoder.decode(value, { stream: true });
      const lines = buffer.split(/\\r?\\n/);
      buffer = lines.pop();
      for (const line of lines) {
        if (line.startsWith("data:")) data.push(line.slice(line.startsWith("data: ") ? 6 : 5));
        else if (line === "" && data.length > 0) {
          const text = data.join("\\n");
          data = [];
          if (text === "[DONE]") return;
          yield JSON.parse(text);
        }
      }
    }
  }

  async function errorMessage(response) {
    const answer = await response.json().catch(() => ({}));
    return answer.error ? answer.error.message || String(answer.error) : "HTTP " + response.status;
  }

  window.gpuxChatView = (info, headers) => {
    // Replaced, not emptied, by "New chat": an answer still arriving then lands in the old one.
    let history = [];
    const log = el("div", { className: "chat-log" });
    const number = (name, value, attrs) => el("input", { type: "number", name, value, step: "any", ...attrs });
    const system = el("input", { type: "text", name: "system", placeholder: "System prompt (optional)" });
    const temperature = number("temperature", "0.7", { min: 0, max: 2 });
    const topP = number("top_p", "1", { min: 0, max: 1 });
    const maxTokens = number("max_tokens", "256", { min: 1, step: 1 });
    const seed = number("seed", "", { step: 1, placeholder: "random" });
    const settings = el("div", { className: "chat-settings" },
      ...[["temperature", temperature], ["top_p", topP], ["max_tokens", maxTokens], ["seed", seed]].map(([name, input]) => el("label", { textContent: name }, input)));
    const prompt = el("textarea", { name: "prompt", rows: 2, placeholder: "Message (Enter sends, Shift+Enter starts a new line)" });
    const send = el("button", { type: "submit", textContent: "Send" });
    const stop = el("button", { type: "button", className: "secondary stop", textContent: "Stop", disabled: true });
    const clear = el("button", { type: "button", className: "secondary clear", textContent: "New chat" });
    const stats = el("p", { className: "meta chat-stats" });
    const failure = el("p", { className: "error" });
    const form = el("form", { className: "chat" }, el("h3", { textContent: "Chat (POST /v1/chat/completions)" }),
      el("label", { textContent: "System" }), system, log, failure, prompt, el("div", {}, send, stop, clear), settings, stats);
    let controller;

    const optional = (input) => (input.value === "" ? undefined : Number(input.value));
    const requestBody = () => ({
      model: info.name,
      messages: [...(system.value.trim() ? [{ role: "system", content: system.value }] : []), ...history],
      stream: true,
      stream_options: { include_usage: true },
      temperature: optional(temperature), top_p: optional(topP), max_tokens: optional(maxTokens), seed: optional(seed),
    });

    prompt.addEventListener("keydown", (event) => { if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); } });
    stop.addEventListener("click", () => controller && controller.abort());
    clear.addEventListener("click", () => { if (controller) controller.abort(); history = []; log.replaceChildren(); stats.textContent = ""; failure.textContent = ""; });

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = prompt.value.trim();
      if (!text || controller) return;
      failure.textContent = "";
      stats.textContent = "waiting for the first token…";
      const conversation = history;
      conversation.push({ role: "user", content: text });
      const asked = el("div", { className: "turn user", textContent: text });
      const answer = el("div", { className: "turn assistant" });
      log.append(asked, answer);
      prompt.value = "";
      controller = new AbortController();
      const aborted = controller.signal;
      send.disabled = true;
      stop.disabled = false;
      const start = performance.now();
      let first;
      let tokens = 0;
      let finish = "";
      const show = () => {
        const now = performance.now();
        // Decode speed: the tokens after the first over the time since it (the first one waited for the prefill).
        const rate = tokens > 1 ? ((tokens - 1) / (now - first)) * 1000 : 0;
        stats.textContent = tokens + " tokens · " + rate.toFixed(1) + " tokens/s · first token " + (first ? (first - start).toFixed(0) + " ms" : "…") + (finish ? " · finish: " + finish : "");
      };
      try {
        const response = await fetch("/v1/chat/completions", { method: "POST", headers: { "content-type": "application/json", ...headers() }, body: JSON.stringify(requestBody()), signal: aborted });
        if (!response.ok) throw new Error(await errorMessage(response));
        for await (const chunk of streamEvents(response)) {
          if (chunk.error) throw new Error(chunk.error.message || String(chunk.error));
          // The usage chunk (stream_options.include_usage) has no choices and the exact token count.
          if (chunk.usage) tokens = chunk.usage.completion_tokens;
          const choice = chunk.choices && chunk.choices[0];
          if (choice && choice.delta && choice.delta.content) {
            first = first || performance.now();
            tokens++;
            answer.textContent += choice.delta.content;
          }
          if (choice && choice.finish_reason) finish = choice.finish_reason;
          if (first) show();
        }
        conversation.push({ role: "assistant", content: answer.textContent });
        show();
      } catch (error) {
        if (conversation !== history) return;
        if (aborted.aborted && answer.textContent) {
          // Stopped mid-answer: the words so far stay in the conversation, as in other chat clients.
          finish = "stopped";
          conversation.push({ role: "assistant", content: answer.textContent });
          show();
        } else {
          // Nothing answered: take the turn back so the next request does not carry it.
          conversation.pop();
          asked.remove();
          answer.remove();
          prompt.value = text;
          stats.textContent = "";
          if (!aborted.aborted) failure.textContent = String(error.message || error);
        }
      } finally {
        controller = undefined;
        send.disabled = false;
        stop.disabled = true;
      }
    });
    return form;
  };
})();
`;
