import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { OpenAiRequestError } from "../../src/server/openai-error.js";
import {
  parseChatCompletionRequest,
  parseCompletionRequest,
} from "../../src/server/routes/openai/generation-request.js";

const user = { role: "user", content: "hi" };

/** The param and code of the refusal a body gets. */
function refusal(parse: (body: Record<string, unknown>) => unknown, body: Record<string, unknown>) {
  try {
    parse(body);
  } catch (error) {
    assert.ok(error instanceof OpenAiRequestError, String(error));
    return { status: error.httpStatus, param: error.param, code: error.code, message: error.message };
  }
  throw new Error(`accepted: ${JSON.stringify(body)}`);
}
const chatRefusal = (extra: Record<string, unknown>) =>
  refusal(parseChatCompletionRequest, { model: "m", messages: [user], ...extra });

describe("chat completions request parsing", () => {
  test("a full request becomes the typed request the engine consumes", () => {
    const parsed = parseChatCompletionRequest({
      model: "m",
      messages: [
        { role: "developer", content: "be brief" },
        {
          role: "user",
          content: [
            { type: "text", text: "one" },
            { type: "text", text: "two" },
          ],
        },
        { role: "assistant", content: "ok", name: "bot" },
      ],
      max_completion_tokens: 16,
      temperature: 0,
      top_p: 0.9,
      seed: 7,
      stop: "\n\n",
      presence_penalty: 0,
      frequency_penalty: 0,
      n: 1,
      stream: true,
      stream_options: { include_usage: true },
      user: "someone",
      logprobs: false,
      tools: [],
      response_format: { type: "text" },
    });
    assert.deepEqual(parsed, {
      kind: "chat",
      model: "m",
      messages: [
        { role: "system", content: "be brief" },
        { role: "user", content: "one\ntwo" },
        { role: "assistant", content: "ok" },
      ],
      sampling: {
        maxTokens: 16,
        temperature: 0,
        topP: 0.9,
        seed: 7,
        stop: ["\n\n"],
      },
      stream: true,
      includeUsage: true,
    });
  });

  test("fields left out stay unset, so the model's own sampling defaults apply; not streamed", () => {
    const parsed = parseChatCompletionRequest({ model: "m", messages: [user], max_tokens: 5 });
    assert.deepEqual(parsed.sampling, {
      maxTokens: 5,
      temperature: undefined,
      topP: undefined,
      seed: undefined,
      stop: undefined,
    });
    assert.deepEqual([parsed.stream, parsed.includeUsage], [false, false]);
  });

  test("each bad field is refused with its param and code", () => {
    const cases: Array<[Record<string, unknown>, string | null, string]> = [
      [{ n: 2 }, "n", "unsupported_parameter"],
      [{ n: 0 }, "n", "invalid_value"],
      [{ messages: [] }, "messages", "invalid_value"],
      [{ messages: "hi" }, "messages", "invalid_type"],
      [{ messages: [{ role: "robot", content: "x" }] }, "messages[0].role", "invalid_value"],
      [{ messages: [{ role: "tool", content: "x" }] }, "messages[0].role", "unsupported_parameter"],
      [{ messages: [{ role: "user" }] }, "messages[0].content", "missing_required_parameter"],
      [{ messages: [{ role: "user", content: 3 }] }, "messages[0].content", "invalid_type"],
      [
        { messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "x" } }] }] },
        "messages[0].content",
        "unsupported_parameter",
      ],
      [{ messages: [{ role: "user", content: "x", tool_calls: [] }] }, "tool_calls", "unknown_parameter"],
      [{ stream: "yes" }, "stream", "invalid_type"],
      [{ stream_options: { include_usage: true } }, "stream_options", "invalid_value"],
      [{ stop: ["a", "b", "c", "d", "e"] }, "stop", "invalid_value"],
      [{ stop: [""] }, "stop", "invalid_value"],
      [{ stop: 5 }, "stop", "invalid_type"],
      [{ max_tokens: 0 }, "max_tokens", "invalid_value"],
      [{ max_tokens: 1.5 }, "max_tokens", "invalid_type"],
      [{ max_tokens: 4, max_completion_tokens: 8 }, "max_tokens", "invalid_value"],
      [{ temperature: 2.5 }, "temperature", "invalid_value"],
      [{ top_p: -0.1 }, "top_p", "invalid_value"],
      [{ seed: 1.5 }, "seed", "invalid_type"],
      [{ presence_penalty: 3 }, "presence_penalty", "invalid_value"],
      [{ presence_penalty: 0.5 }, "presence_penalty", "unsupported_parameter"],
      [{ frequency_penalty: -1 }, "frequency_penalty", "unsupported_parameter"],
      [{ top_p: 0 }, "top_p", "invalid_value"],
      [{ seed: -1 }, "seed", "invalid_value"],
      [{ seed: 2 ** 32 }, "seed", "invalid_value"],
      [{ frequency_penalty: "high" }, "frequency_penalty", "invalid_type"],
      [{ tools: [{ type: "function" }] }, "tools", "unsupported_parameter"],
      [{ logprobs: true }, "logprobs", "unsupported_parameter"],
      [{ logit_bias: { "42": 10 } }, "logit_bias", "unsupported_parameter"],
      [{ response_format: { type: "json_object" } }, "response_format", "unsupported_parameter"],
      [{ colour: "red" }, "colour", "unknown_parameter"],
      [{ model: 5 }, "model", "invalid_type"],
    ];
    for (const [extra, param, code] of cases) {
      const got = chatRefusal(extra);
      assert.deepEqual(
        [got.status, got.param, got.code],
        [400, param, code],
        `${JSON.stringify(extra)}: ${got.message}`,
      );
    }
    assert.deepEqual(
      refusal(parseChatCompletionRequest, { messages: [user] }).param,
      "model",
      "a missing model is named",
    );
  });
});

describe("completions request parsing", () => {
  test("a prompt string or list, echo and the shared sampling fields", () => {
    const parsed = parseCompletionRequest({
      model: "m",
      prompt: ["a", "b"],
      echo: true,
      stop: ["x"],
      best_of: 1,
    });
    assert.deepEqual(
      [parsed.kind, parsed.prompts, parsed.echo, parsed.sampling.stop],
      ["completion", ["a", "b"], true, ["x"]],
    );
    assert.deepEqual(parseCompletionRequest({ model: "m", prompt: "a" }).prompts, ["a"]);
  });

  test("token-id prompts, suffix, best_of > 1, logprobs and n > 1 are refused by name", () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ prompt: [1, 2, 3] }, "prompt"],
      [{ prompt: [[1, 2]] }, "prompt"],
      [{ prompt: [] }, "prompt"],
      [{ prompt: "a", suffix: "z" }, "suffix"],
      [{ prompt: "a", best_of: 2 }, "best_of"],
      [{ prompt: "a", logprobs: 3 }, "logprobs"],
      [{ prompt: "a", n: 3 }, "n"],
      [{ prompt: "a", echo: "yes" }, "echo"],
      [{ prompt: "a", messages: [user] }, "messages"],
    ];
    for (const [extra, param] of cases) {
      const got = refusal(parseCompletionRequest, { model: "m", ...extra });
      assert.equal(got.param, param, `${JSON.stringify(extra)}: ${got.message}`);
    }
  });
});
