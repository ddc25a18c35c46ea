/**
 * The playground's chat view in headless Chromium, against a small in-test server that serves the real page
 * and answers POST /v1/chat/completions in OpenAI's streaming format (chat.completion.chunk events, the role
 * in the first delta, finish_reason in the last, a usage chunk, `data: [DONE]`), each event written in two
 * pieces so the page must join lines across reads. Its answers are chosen by the last user message, so the
 * page's streaming, multi-turn history, stop button and both kinds of error (an HTTP error before the stream,
 * an error event inside it) can each be driven. playground-chat-model.test.ts streams from the real route.
 */
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { playgroundContentSecurityPolicy, playgroundPage } from "../../src/server/playground-page.js";
import { launchChromium, missingChromium } from "../helpers/chromium.js";
import { repoRoot } from "../helpers/cli.js";

const model = "tiny/chat";
// as /info describes a served generator: its task, and its token-id and cache inputs
const info = {
  name: model,
  task: "text-generation",
  provider: "cpu",
  inputs: [
    { name: "input_ids", dtype: "int64", shape: ["batch_size", "sequence_length"] },
    { name: "past_key_values.0.key", dtype: "float32", shape: ["batch_size", 2, "past_sequence_length", 16] },
  ],
  outputs: [],
};
const refusal = { error: { message: "'temperature' must be at most 2.", type: "invalid_request_error" } };
const midStreamError = { error: { message: "The model failed mid-answer.", type: "server_error" } };

interface ChatBody {
  messages: Array<{ role: string; content: string }>;
  [field: string]: unknown;
}

/** Every chat request the page sent, and for each whether its client went away before the answer ended. */
const requests: ChatBody[] = [];
const closedEarly: Array<Promise<boolean>> = [];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function readJson(request: IncomingMessage): Promise<ChatBody> {
  const parts: Buffer[] = [];
  for await (const part of request) parts.push(part as Buffer);
  return JSON.parse(Buffer.concat(parts).toString("utf8")) as ChatBody;
}

/** One event, split in the middle of its line, with a pause between the halves. */
async function writeEvent(response: ServerResponse, data: string): Promise<void> {
  const event = `data: ${data}\n\n`;
  const cut = Math.floor(event.length / 2);
  response.write(event.slice(0, cut));
  await sleep(5);
  response.write(event.slice(cut));
}

async function answerChat(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const body = await readJson(request);
  requests.push(body);
  const asked = body.messages.at(-1)?.content ?? "";
  if (asked === "refuse") {
    response.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify(refusal));
    return;
  }
  closedEarly.push(new Promise((resolve) => response.on("close", () => resolve(!response.writableEnded))));
  response.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
  });
  const chunk = (delta: object, finish: string | null = null) =>
    JSON.stringify({
      id: "chatcmpl-test",
      object: "chat.completion.chunk",
      created: 1_800_000_000,
      model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    });
  await writeEvent(response, chunk({ role: "assistant", content: "" }));
  const words = asked === "slow" ? Array.from({ length: 200 }, (_, i) => `w${i} `) : ["Echo", ": ", asked];
  for (const [i, word] of words.entries()) {
    if (response.destroyed) return;
    await writeEvent(response, chunk({ content: word }));
    if (asked === "break") {
      await writeEvent(response, JSON.stringify(midStreamError));
      response.end("data: [DONE]\n\n");
      return;
    }
    await sleep(asked === "slow" ? 100 : 20 + i);
  }
  await writeEvent(response, chunk({}, "stop"));
  const usage = { prompt_tokens: 9, completion_tokens: words.length, total_tokens: 9 + words.length };
  await writeEvent(response, JSON.stringify({ ...JSON.parse(chunk({})), choices: [], usage }));
  response.end("data: [DONE]\n\n");
}

const server = createServer((request, response) => {
  if (request.method === "GET" && request.url === "/") {
    response.writeHead(200, {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": playgroundContentSecurityPolicy,
    });
    response.end(playgroundPage([model]));
  } else if (request.method === "GET" && request.url === `/info/${encodeURIComponent(model)}`) {
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(info));
  } else if (request.method === "POST" && request.url === "/v1/chat/completions") {
    answerChat(request, response).catch((error: Error) => response.destroy(error));
  } else {
    response.writeHead(404).end();
  }
});

const skip = missingChromium();

describe("the playground's chat view (headless Chromium, OpenAI's stream format)", { skip }, () => {
  let browser: Browser | undefined;
  let page: Page;
  const pageErrors: string[] = [];
  const chat = () => page.locator(`[id="model-${model}"] form.chat`);
  const turns = () => chat().locator(".chat-log .turn").allTextContents();
  const stats = () => chat().locator(".chat-stats").textContent();
  /** Type a message and press Enter (the page sends on Enter). */
  const say = async (text: string) => {
    await chat().locator("textarea[name=prompt]").fill(text);
    await chat().locator("textarea[name=prompt]").press("Enter");
  };
  const finished = (reason: string) =>
    chat()
      .locator(".chat-stats")
      .filter({ hasText: new RegExp(`finish: ${reason}$`) })
      .waitFor({ timeout: 20_000 });

  after(async () => {
    await browser?.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address() as { port: number };
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    page.on("pageerror", (error) => pageErrors.push(error.message));
    await page.goto(`http://127.0.0.1:${address.port}/`);
    await chat().waitFor();
  });

  test("a generation model gets the chat view instead of the /predict form, without its cache inputs", async () => {
    assert.equal(await page.locator(`[id="model-${model}"] form:not(.chat)`).count(), 0);
    const meta = (await page.locator(`[id="model-${model}"] > p.meta`).textContent()) ?? "";
    assert.equal(meta, "task: text-generation · provider: cpu");
  });

  test("the answer streams in, with tokens/s, time to first token and finish reason; the settings are sent", async () => {
    await chat().locator("input[name=system]").fill("Be brief.");
    await chat().locator("input[name=temperature]").fill("0.5");
    await chat().locator("input[name=top_p]").fill("0.9");
    await chat().locator("input[name=max_tokens]").fill("20");
    await chat().locator("input[name=seed]").fill("7");
    await say("hello there");
    await finished("stop");
    assert.deepEqual(await turns(), ["hello there", "Echo: hello there"]);
    // three content deltas; the usage chunk's completion_tokens (3) is the count shown
    assert.match((await stats()) ?? "", /^3 tokens · \d+\.\d tokens\/s · first token \d+ ms · finish: stop$/);
    assert.deepEqual(requests.at(-1), {
      model,
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "hello there" },
      ],
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.5,
      top_p: 0.9,
      max_tokens: 20,
      seed: 7,
    });
  });

  test("the conversation is kept: the next request carries the earlier turns", async () => {
    await say("and again");
    await finished("stop");
    assert.deepEqual(await turns(), ["hello there", "Echo: hello there", "and again", "Echo: and again"]);
    assert.deepEqual(requests.at(-1)?.messages, [
      { role: "system", content: "Be brief." },
      { role: "user", content: "hello there" },
      { role: "assistant", content: "Echo: hello there" },
      { role: "user", content: "and again" },
    ]);
  });

  test("Stop aborts the request: the server sees the client go; the words so far stay in the chat", async () => {
    await say("slow");
    const answer = chat().locator(".chat-log .assistant").last();
    // live: several tokens shown, with a rate, before the answer is over
    await answer.filter({ hasText: /w3 / }).waitFor();
    assert.match((await stats()) ?? "", /^\d+ tokens · \d+\.\d tokens\/s · first token \d+ ms$/);
    await chat().locator("button.stop").click();
    await finished("stopped");
    assert.equal(await Promise.race([closedEarly.at(-1), sleep(5000).then(() => "no close")]), true);
    const partial = (await answer.textContent()) ?? "";
    assert.match(partial, /^(w\d+ )+$/);
    assert.ok(!partial.includes("w199"), "the whole answer arrived: nothing was stopped");
    assert.equal(await chat().locator("button[type=submit]").isEnabled(), true);
    await say("after the stop");
    await finished("stop");
    assert.deepEqual(requests.at(-1)?.messages.slice(-3), [
      { role: "user", content: "slow" },
      { role: "assistant", content: partial },
      { role: "user", content: "after the stop" },
    ]);
  });

  test("errors are shown in the page: an HTTP error before the stream, an error event inside it", async () => {
    const before = await turns();
    await say("refuse");
    await chat().locator(".error").filter({ hasText: /\S/ }).waitFor();
    assert.equal(await chat().locator(".error").textContent(), refusal.error.message);
    // the refused turn is taken back: not in the chat, its text back in the box for another try
    assert.deepEqual(await turns(), before);
    assert.equal(await chat().locator("textarea[name=prompt]").inputValue(), "refuse");

    await say("break");
    await chat().locator(".error").filter({ hasText: midStreamError.error.message }).waitFor();
    assert.equal(await chat().locator(".error").textContent(), midStreamError.error.message);
    assert.deepEqual(await turns(), before);
    assert.deepEqual(pageErrors, []);
    const outDir = join(repoRoot, "test-output");
    mkdirSync(outDir, { recursive: true });
    await page.screenshot({ path: join(outDir, "playground-chat-stream.png"), fullPage: true });
  });

  test("New chat forgets the conversation", async () => {
    await chat().locator("button.clear").click();
    assert.deepEqual(await turns(), []);
    await say("fresh start");
    await finished("stop");
    assert.deepEqual(requests.at(-1)?.messages, [
      { role: "system", content: "Be brief." },
      { role: "user", content: "fresh start" },
    ]);
    assert.deepEqual(pageErrors, []);
  });
});
