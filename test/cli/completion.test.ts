import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { cliPath, runCli, runProcess } from "../helpers/cli.js";
import { startFakeHub } from "../helpers/fake-hub.js";
import { onnxRepo } from "../helpers/fake-hub-repos.js";
import { registryMissing, startRegistry } from "../helpers/oci-registry-server.js";
import { tempDir } from "../helpers/temp-dir.js";

const hub = await startFakeHub({ repos: [onnxRepo("org/Name")] });
after(() => hub.close());
const home = tempDir();
// `gpux` on PATH, as the scripts call it for model names and server ids
const bin = join(home, "bin");
execFileSync("mkdir", ["-p", bin]);
writeFileSync(join(bin, "gpux"), `#!/bin/sh\nexec "${process.execPath}" "${cliPath}" "$@"\n`);
chmodSync(join(bin, "gpux"), 0o755);
const env = {
  PATH: `${bin}:${process.env.PATH}`,
  HF_ENDPOINT: hub.url,
  HF_HUB_CACHE: join(home, "hf"),
  HF_TOKEN: "",
  GPUX_HOME: join(home, "gpux"),
};

const has = (shell: string) => {
  try {
    execFileSync("sh", ["-c", `command -v ${shell}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
};

async function script(shell: string): Promise<string> {
  const out = await runCli(["completion", shell], { env });
  assert.equal(out.code, 0, out.stderr);
  const path = join(home, `gpux.${shell}`);
  writeFileSync(path, out.stdout);
  return path;
}

/** What bash's completion function offers for the words typed so far (the last one being completed). */
async function bashComplete(path: string, words: string[]): Promise<string[]> {
  const typed = words.map((w) => `'${w}'`).join(" ");
  const line = words.join(" ");
  const out = await runProcess(
    "bash",
    [
      "-c",
      `source '${path}'; COMP_WORDS=(${typed}); COMP_CWORD=${words.length - 1}; COMP_LINE='${line}'; COMP_POINT=${line.length}; _gpux; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ],
    { env, cwd: home },
  );
  assert.equal(out.code, 0, out.stderr);
  return out.stdout.split("\n").filter(Boolean);
}

test("bash completes commands, options, choices and pulled model names with the generated script", async () => {
  assert.equal((await runCli(["pull", "org/Name"], { env })).code, 0);
  const path = await script("bash");
  const registered = await runProcess("bash", ["-c", `source '${path}'; complete -p gpux`], { env });
  assert.equal(registered.stdout.trim(), "complete -F _gpux gpux");

  assert.deepEqual(await bashComplete(path, ["gpux", "pr"]), ["prune"]);
  assert.deepEqual(await bashComplete(path, ["gpux", "s"]), ["search", "serve", "stop"]);
  assert.deepEqual(await bashComplete(path, ["gpux", "run", "--pu"]), ["--pull"]);
  assert.deepEqual(await bashComplete(path, ["gpux", "run", "--pull", "a"]), ["always"]);
  assert.deepEqual(await bashComplete(path, ["gpux", "-v", "serve", "--det"]), ["--detach"]);
  assert.deepEqual(await bashComplete(path, ["gpux", "run", "org/"]), ["org/Name"]);
  assert.deepEqual(await bashComplete(path, ["gpux", "rm", "org/N"]), ["org/Name"]);
  assert.deepEqual(await bashComplete(path, ["gpux", "completion", ""]), ["bash", "zsh", "fish"]);
  assert.deepEqual(await bashComplete(path, ["gpux", "stop", ""]), ["all"]);
  // free text has nothing to offer; a path value completes files
  assert.deepEqual(await bashComplete(path, ["gpux", "run", "--text", ""]), []);
  assert.deepEqual(await bashComplete(path, ["gpux", "run", "--file", "gpux.b"]), ["gpux.bash"]);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * An interactive bash without rc files (so without the bash-completion package) in tmux, with the script
 * sourced: `complete(typed, expected)` types the words, presses Tab, then `Z` (tmux drops trailing blanks from
 * the screen: the `Z` shows whether bash added the space that ends a word), and waits for the line `expected`.
 */
function interactiveBash(path: string) {
  const name = `gpux-complete-${process.pid}`;
  const assignments = Object.entries(env).map(([k, v]) => `${k}='${v}'`);
  const shell = `cd '${home}' && env ${assignments.join(" ")} PS1='$ ' bash --norc --noprofile`;
  execFileSync("tmux", ["new-session", "-d", "-s", name, "-x", "200", "-y", "20", shell]);
  after(() => spawnSync("tmux", ["kill-session", "-t", name]));
  const prompt = () => {
    const lines = execFileSync("tmux", ["capture-pane", "-p", "-t", name], { encoding: "utf8" })
      .split("\n")
      .filter((l) => l.startsWith("$ "));
    return (lines.at(-1) ?? "").slice(2);
  };
  const send = (...keys: string[]) => execFileSync("tmux", ["send-keys", "-t", name, ...keys]);
  const waitFor = async (found: (line: string) => boolean, what: string) => {
    for (const deadline = Date.now() + 20_000; !found(prompt()); await sleep(50)) {
      if (Date.now() > deadline) throw new Error(`${what}: the line is ${JSON.stringify(prompt())}`);
    }
  };
  return {
    source: async () => {
      await waitFor((line) => line === "", "no prompt");
      send("-l", `source '${path}'; clear`);
      send("Enter");
      await waitFor((line) => line === "", "sourcing");
    },
    complete: async (typed: string, expected: string) => {
      send("-l", typed);
      send("Tab");
      send("-l", "Z");
      // the completion runs `gpux ls -q`: wait for the line to change to what it completes
      await waitFor((line) => line === expected, `${typed} + Tab`).finally(() => {
        send("C-u");
      });
      await waitFor((line) => line === "", "clearing the line");
    },
  };
}

test("in an interactive bash, words with a colon complete (hf:org/name, host:port/repo), folders end in a slash", {
  skip: has("tmux") ? false : "tmux is not installed",
}, async () => {
  const registry = registryMissing() ? undefined : await startRegistry();
  after(() => registry?.close());
  assert.equal((await runCli(["pull", "org/Name"], { env })).code, 0);
  if (registry) {
    const pushed = await runCli(["push", "org/Name", `oci://${registry.host}/models/name:v1`], { env });
    assert.equal(pushed.code, 0, pushed.stderr);
    const pulled = await runCli(["pull", `oci://${registry.host}/models/name:v1`], { env });
    assert.equal(pulled.code, 0, pulled.stderr);
  }
  mkdirSync(join(home, "my-folder"), { recursive: true });
  const bash = interactiveBash(await script("bash"));
  await bash.source();
  await bash.complete("gpux run hf:org/N", "gpux run hf:org/Name Z");
  await bash.complete("gpux rm huggingface:or", "gpux rm huggingface:org/Name Z");
  if (registry) {
    // `gpux ls -q` names an OCI model host:port/repo (its tag is the revision)
    await bash.complete(`gpux run ${registry.host}/mod`, `gpux run ${registry.host}/models/name Z`);
    await bash.complete(`gpux rm oci:${registry.host}/mo`, `gpux rm oci:${registry.host}/models/name Z`);
  }
  await bash.complete("gpux run org/N", "gpux run org/Name Z");
  await bash.complete("gpux run my-f", "gpux run my-folder/Z");
  await bash.complete("gpux run --file my-f", "gpux run --file my-folder/Z");
});

test("every command and option of --help is in the scripts", async () => {
  const bash = await runCli(["completion", "bash"], { env });
  const help = await runCli(["serve", "--help"], { env });
  const serveFlags = [...help.stdout.matchAll(/(?:^|\s)(--[a-z][a-z-]*)/g)].map((m) => m[1] as string);
  assert.ok(serveFlags.length > 20);
  for (const flag of serveFlags) assert.ok(bash.stdout.includes(flag), flag);
  const top = await runCli(["--help"], { env });
  const commands = [...top.stdout.matchAll(/^ {2}([a-z]+)(?:\|[a-z]+)?\s/gm)].map((m) => m[1] as string);
  assert.ok(commands.includes("completion") && commands.includes("prune"));
  for (const command of commands) assert.match(bash.stdout, new RegExp(`^ {4}${command}[|)]`, "m"));
  const bad = await runCli(["completion", "tcsh"], { env });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /Allowed choices are bash, zsh, fish/);
});

test("fish completes with the generated script", {
  skip: has("fish") ? false : "fish is not installed",
}, async () => {
  const path = await script("fish");
  const complete = async (line: string) => {
    const out = await runProcess("fish", ["-c", `source '${path}'; complete -C '${line}'`], {
      env,
      cwd: home,
    });
    assert.equal(out.code, 0, out.stderr);
    return out.stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split("\t")[0]);
  };
  assert.deepEqual(await complete("gpux pr"), ["prune"]);
  assert.deepEqual(await complete("gpux run --pull a"), ["always"]);
  assert.ok((await complete("gpux rm ")).includes("org/Name"));
});

test("zsh reads the generated script", { skip: has("zsh") ? false : "zsh is not installed" }, async () => {
  const path = await script("zsh");
  const out = await runProcess(
    "zsh",
    ["-c", `autoload -U compinit && compinit -u && source '${path}' && whence -w _gpux`],
    {
      env,
      cwd: home,
    },
  );
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout.trim(), "_gpux: function");
});
