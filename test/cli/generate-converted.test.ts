/**
 * A safetensors-only causal LM: `gpux pull` converts it (python bridge, KV cache layout), then
 * `gpux run --prompt` answers with transformers' own greedy tokens, for a plain prompt and a chat.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, test } from "node:test";
import { runCli } from "../helpers/cli.js";
import { startFakeHub } from "../helpers/fake-hub.js";
import { missingPythonModules, requirePython } from "../helpers/python.js";
import { tempDir } from "../helpers/temp-dir.js";
import {
  causalLmPythonModules,
  tinyCausalLmReference,
  tinyCausalLmRepo,
} from "../helpers/tiny-causal-lms.js";

const modules = [...causalLmPythonModules];
const python = missingPythonModules(modules) === undefined;
const hub = await startFakeHub({
  repos: python ? [tinyCausalLmRepo("qwen3-safetensors", "tiny/qwen3-safetensors")] : [],
});
after(() => hub.close());

test("pull converts a safetensors-only Qwen3; run --prompt gives transformers' greedy tokens", async (t) => {
  if (!requirePython(t, modules)) return;
  const home = tempDir();
  const env = {
    HF_ENDPOINT: hub.url,
    HF_HUB_CACHE: join(home, "hf"),
    HF_TOKEN: "",
    GPUX_HOME: join(home, "gpux"),
  };
  const pulled = await runCli(["pull", "tiny/qwen3-safetensors"], { env });
  assert.equal(pulled.code, 0, pulled.stderr);
  const ref = tinyCausalLmReference("qwen3-safetensors");
  const greedy = ["--temperature", "0", "--max-tokens", String(ref.max_new_tokens), "--json"];
  const plain = await runCli(
    ["run", "tiny/qwen3-safetensors", "--prompt", ref.plain.prompt, "--raw", ...greedy],
    {
      env,
    },
  );
  assert.equal(plain.code, 0, plain.stderr);
  assert.deepEqual(JSON.parse(plain.stdout).tokens, ref.plain.output_ids);
  const chat = ref.chat;
  assert.ok(chat);
  const system = chat.messages.find((m) => m.role === "system")?.content;
  const user = chat.messages.find((m) => m.role === "user")?.content as string;
  const args = ["run", "tiny/qwen3-safetensors", "--prompt", user, ...(system ? ["--system", system] : [])];
  const answered = await runCli([...args, ...greedy], { env });
  assert.equal(answered.code, 0, answered.stderr);
  assert.deepEqual(JSON.parse(answered.stdout).tokens, chat.output_ids);
});
