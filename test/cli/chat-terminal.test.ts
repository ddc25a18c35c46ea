/**
 * `gpux chat` in a real terminal (tmux): readline in raw mode, Ctrl-C as a key. Two turns, Ctrl-C in the
 * middle of an answer (the chat goes on), then /bye ends the process with status 0; `gpux run MODEL` with no
 * input opens the same chat, and Ctrl-D leaves it.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { cliPath, runCli } from "../helpers/cli.js";
import { startFakeHub } from "../helpers/fake-hub.js";
import { missingPythonModules } from "../helpers/python.js";
import { tempDir } from "../helpers/temp-dir.js";
import { causalLmPythonModules, tinyCausalLmRepo } from "../helpers/tiny-causal-lms.js";

const hasTmux = spawnSync("tmux", ["-V"]).status === 0;
const missing =
  missingPythonModules([...causalLmPythonModules]) ?? (hasTmux ? undefined : "tmux is not installed");
if (missing && process.env.GPUX_REQUIRE_PYTHON_TESTS === "1") throw new Error(missing);

const socket = `gpux-chat-test-${process.pid}`;
const tmux = (...args: string[]) => spawnSync("tmux", ["-L", socket, ...args], { encoding: "utf8" });
after(() => tmux("kill-server"));

/** The pane's text (the whole scrollback). */
const screen = () => tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "chat").stdout;

async function waitFor(what: string, check: (text: string) => boolean, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = screen();
    if (check(text)) return text;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the screen:\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const prompts = (text: string) => text.match(/^>>> /gm)?.length ?? 0;

test("gpux chat in a terminal: two turns, Ctrl-C stops an answer, /bye leaves; run opens it too", {
  skip: missing,
}, async () => {
  const hub = await startFakeHub({ repos: [tinyCausalLmRepo("qwen3", "tiny/qwen3")] });
  after(() => hub.close());
  const home = tempDir();
  const env = {
    HF_ENDPOINT: hub.url,
    HF_HUB_CACHE: join(home, "hf"),
    HF_TOKEN: "",
    GPUX_HOME: join(home, "gpux"),
  };
  const pulled = await runCli(["pull", "tiny/qwen3"], { env });
  assert.equal(pulled.code, 0, pulled.stderr);

  const status = join(home, "status");
  const vars = Object.entries(env).map(([key, value]) => `${key}='${value}'`);
  const command = `env ${vars.join(" ")} '${process.execPath}' '${cliPath}' chat tiny/qwen3 --temperature 0 --max-tokens 100; echo "exit $?" > '${status}'`;
  assert.equal(tmux("new-session", "-d", "-s", "chat", "-x", "200", "-y", "50", command).status, 0);

  await waitFor("the first prompt", (text) => prompts(text) === 1);
  tmux("send-keys", "-t", "chat", "-l", "Say hi");
  tmux("send-keys", "-t", "chat", "Enter");
  // short answers: the tiny model is random, so it rarely says EOS; 100 tokens take a few seconds here
  await waitFor("the first answer", (text) => prompts(text) === 2, 120_000);
  tmux("send-keys", "-t", "chat", "-l", "Say hi");
  tmux("send-keys", "-t", "chat", "Enter");
  const afterSecond = await waitFor("the second answer to start", (text) => {
    const last = text.split(">>> Say hi").pop() ?? "";
    return last.replace(/\s/g, "").length > 5;
  });
  tmux("send-keys", "-t", "chat", "C-c");
  const stopped = await waitFor("the stopped answer and a new prompt", (text) => prompts(text) === 3);
  assert.match(stopped, /\[stopped\]/);
  assert.ok(existsSync(status) === false, "Ctrl-C during an answer must not end the chat");
  // the history is kept: the same question after the first answer is answered differently
  const answers = stopped
    .split(">>> Say hi")
    .slice(1)
    .map((part) => part.split(/\n>>> |\[stopped\]/)[0]?.trim());
  assert.equal(answers.length, 2, afterSecond);
  assert.ok(answers[1] && answers[0] && !answers[0].startsWith(answers[1]), stopped);

  tmux("send-keys", "-t", "chat", "-l", "/bye");
  tmux("send-keys", "-t", "chat", "Enter");
  const deadline = Date.now() + 30_000;
  while (!existsSync(status) && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(readFileSync(status, "utf8").trim(), "exit 0");

  // `gpux run MODEL` with no input on a terminal opens the same chat
  const runStatus = join(home, "run-status");
  const run = `env ${vars.join(" ")} '${process.execPath}' '${cliPath}' run tiny/qwen3; echo "exit $?" > '${runStatus}'`;
  assert.equal(tmux("new-session", "-d", "-s", "run", "-x", "200", "-y", "50", run).status, 0);
  const runScreen = () => tmux("capture-pane", "-p", "-t", "run").stdout;
  const until = Date.now() + 60_000;
  while (!/^>>> /m.test(runScreen()) && Date.now() < until)
    await new Promise((resolve) => setTimeout(resolve, 100));
  assert.match(runScreen(), /Send a message/);
  tmux("send-keys", "-t", "run", "C-d");
  const end = Date.now() + 30_000;
  while (!existsSync(runStatus) && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(readFileSync(runStatus, "utf8").trim(), "exit 0");
});
