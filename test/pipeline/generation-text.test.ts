/**
 * Text in and out of generation, against transformers on the tiny causal LMs' files: chat templates render
 * exactly what apply_chat_template does (a template in tokenizer_config.json and one in chat_template.jinja),
 * prompts tokenize to the same ids, and the streaming detokenizer never shows half a character while its
 * pieces add up to the full decode.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { loadChatTemplate } from "../../src/pipeline/text/chat-template.js";
import { StreamDecoder } from "../../src/pipeline/text/stream-decoder.js";
import { TextTokenizer } from "../../src/pipeline/text/text-tokenizer.js";
import { missingPythonModules } from "../helpers/python.js";
import {
  causalLmPythonModules,
  type TinyCausalLmName,
  tinyCausalLmReference,
  tinyCausalLmsDir,
} from "../helpers/tiny-causal-lms.js";

const missing = missingPythonModules([...causalLmPythonModules]);
if (missing && process.env.GPUX_REQUIRE_PYTHON_TESTS === "1") throw new Error(missing);

const json = (dir: string, name: string) => JSON.parse(readFileSync(join(dir, name), "utf8"));

type Files = { dir: string; config: Record<string, unknown>; tokenizer: TextTokenizer };
const loaded = new Map<TinyCausalLmName, Files>();

/** A model's folder, tokenizer_config.json and tokenizer (read once: the Qwen3 tokenizer.json is 11 MB). */
function files(name: TinyCausalLmName): Files {
  const known = loaded.get(name);
  if (known) return known;
  const dir = join(tinyCausalLmsDir(), name);
  const config = json(dir, "tokenizer_config.json");
  const entry = { dir, config, tokenizer: TextTokenizer.fromJson(json(dir, "tokenizer.json"), config) };
  loaded.set(name, entry);
  return entry;
}

describe("chat templates and tokens, as transformers makes them", { skip: missing }, () => {
  for (const name of ["qwen3", "llama"] as const) {
    test(`${name}: the rendered chat equals apply_chat_template, and tokenizes to its ids`, () => {
      const { dir, config, tokenizer } = files(name);
      const chat = tinyCausalLmReference(name).chat;
      assert.ok(chat);
      const template = loadChatTemplate(dir, config);
      assert.ok(template, "the model has a chat template");
      const rendered = template.render(chat.messages, { addGenerationPrompt: chat.add_generation_prompt });
      assert.equal(rendered, chat.rendered);
      assert.deepEqual(tokenizer.segment(rendered).ids, chat.input_ids);
    });
  }

  test("gpt2 has no chat template", () => {
    const { dir, config } = files("gpt2");
    assert.equal(loadChatTemplate(dir, config), undefined);
  });

  for (const name of ["qwen3", "llama", "gpt2"] as const) {
    test(`${name}: a plain prompt tokenizes to transformers' ids`, () => {
      const ref = tinyCausalLmReference(name);
      assert.deepEqual(files(name).tokenizer.encode(ref.plain.prompt).ids, ref.plain.input_ids);
    });
  }

  test("tools reach the template as `tools`", () => {
    const { dir, config } = files("qwen3");
    const template = loadChatTemplate(dir, config);
    const tool = { type: "function", function: { name: "get_weather", description: "Weather of a city" } };
    const rendered = template?.render([{ role: "user", content: "Rain in Oslo?" }], { tools: [tool] });
    assert.match(rendered ?? "", /get_weather/);
  });
});

/** Both ways of streaming: a window of ids decoded per token, and byte-level pieces (Qwen's decoder is ByteLevel). */
const modes = [
  ["window decode", (_: TextTokenizer) => undefined],
  ["byte-level pieces", (tokenizer: TextTokenizer) => tokenizer.streamPieces()],
] as const;

describe("streaming detokenizer", { skip: missing }, () => {
  test("a byte-level tokenizer offers per-token pieces", () => {
    assert.ok(files("qwen3").tokenizer.streamPieces());
  });

  for (const [mode, piecesOf] of modes) {
    test(`${mode}: tokens that split a character show nothing until it is whole`, () => {
      const { tokenizer } = files("qwen3");
      // rare emoji and CJK are several byte-level tokens each in Qwen's vocabulary
      const text = "héllo 你好 🙂 🦩🪿 鬱 The capital of France is Paris.";
      const ids = tokenizer.encode(text).ids;
      const stream = new StreamDecoder((part) => tokenizer.decode(part), piecesOf(tokenizer));
      const pieces = ids.map((id) => stream.push(id));
      pieces.push(stream.finish());
      assert.ok(pieces.includes(""), "some token ended inside a character");
      for (const piece of pieces) assert.doesNotMatch(piece, /\uFFFD/);
      assert.equal(pieces.join(""), tokenizer.decode(ids));
      assert.equal(pieces.join(""), text);
    });

    test(`${mode}: the pieces of transformers' generated ids add up to its decode`, () => {
      for (const name of ["qwen3", "llama", "gpt2"] as const) {
        const { tokenizer } = files(name);
        const ref = tinyCausalLmReference(name);
        const decode = (part: number[]) => tokenizer.decode(part, { skipSpecialTokens: true });
        for (const run of [ref.plain, ref.chat]) {
          if (!run) continue;
          const stream = new StreamDecoder(decode, piecesOf(tokenizer));
          const joined = run.output_ids.map((id) => stream.push(id)).join("") + stream.finish();
          assert.equal(joined, run.text);
        }
      }
    });

    test(`${mode}: special tokens are skipped, and bytes never completed come out of finish()`, () => {
      const { tokenizer } = files("qwen3");
      const flamingo = tokenizer.encode("🦩").ids;
      assert.ok(flamingo.length > 1);
      const endOfTurn = tokenizer.tokenToId("<|im_end|>") as number;
      const ids = [...tokenizer.encode("ok").ids, endOfTurn, ...flamingo.slice(0, -1)];
      const decode = (part: number[]) => tokenizer.decode(part, { skipSpecialTokens: true });
      const stream = new StreamDecoder(decode, piecesOf(tokenizer));
      assert.equal(ids.map((id) => stream.push(id)).join(""), "ok");
      assert.equal(stream.finish(), decode(ids).slice(2));
      assert.equal(stream.text, decode(ids));
    });
  }
});
