/**
 * `gpux pull A B C` on the fake hub: several models a few at a time, one that fails (not on the hub) does not
 * stop the others, a summary names each, the exit code is the first failure's; --json names the model in every
 * event; on an 80-column terminal the bars (one per model) fit.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import { after, test } from "node:test";
import { cliPath, repoRoot, runCli } from "../helpers/cli.js";
import { startFakeHub } from "../helpers/fake-hub.js";
import { onnxRepo } from "../helpers/fake-hub-repos.js";
import { tempDir } from "../helpers/temp-dir.js";

const hub = await startFakeHub({
  repos: [
    onnxRepo("org/Alpha"),
    onnxRepo("org/Beta", { width: 512 * 1024 }),
    onnxRepo("org/Gamma", { width: 128 * 1024 }),
  ],
});
after(() => hub.close());

function env(home: string): NodeJS.ProcessEnv {
  return {
    HF_ENDPOINT: hub.url,
    HF_HOME: join(home, "hf"),
    HF_HUB_CACHE: join(home, "hf", "hub"),
    HF_TOKEN: "",
    GPUX_HOME: join(home, "gpux"),
    GPUX_HUB_BACKOFF_MS: "10",
  };
}

test("pull three models and a missing one: the others are pulled, the summary says which failed, exit 2", async () => {
  const home = tempDir();
  const refs = ["org/Alpha", "org/Missing", "org/Beta", "org/Gamma"];
  const pulled = await runCli(["pull", ...refs], { env: env(home) });
  assert.equal(pulled.code, 2, pulled.stderr);
  assert.match(pulled.stdout, /^org\/Alpha\s+ok\s+\S+ \S+ downloaded in/m);
  assert.match(pulled.stdout, /^org\/Missing\s+failed\s+.*org\/Missing/m);
  assert.match(pulled.stdout, /^org\/Beta\s+ok\s+/m);
  assert.match(pulled.stdout, /pulled 3 of 4 models; 1 failed/);
  assert.match(pulled.stderr, /^error: org\/Missing: .*\nhint: /m);
  // each file's lines name their model, so two models' files cannot be confused
  assert.match(pulled.stderr, /^downloading org\/Beta: onnx\/model\.onnx_data \(/m);

  const ls = JSON.parse((await runCli(["ls", "--json"], { env: env(home) })).stdout);
  assert.deepEqual(ls.models.map((m: { name: string }) => m.name).sort(), [
    "org/Alpha",
    "org/Beta",
    "org/Gamma",
  ]);

  // a second time: the three are up to date (one revision request each), the missing one still fails
  const again = await runCli(["pull", ...refs], { env: env(home) });
  assert.equal(again.code, 2);
  assert.equal(again.stdout.match(/already up to date/g)?.length, 3, again.stdout);
});

test("--json: every event names its model; a result or error per model, then a summary", async () => {
  const home = tempDir();
  const pulled = await runCli(["pull", "org/Alpha", "org/Beta", "org/Missing", "--json"], { env: env(home) });
  assert.equal(pulled.code, 2);
  assert.equal(pulled.stderr, "");
  const events = pulled.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  const progress = events.filter((e) => e.event === "progress");
  assert.ok(progress.length > 0);
  assert.ok(
    progress.every((e) => ["org/Alpha", "org/Beta", "org/Missing"].includes(e.model)),
    "model on each",
  );
  assert.ok(progress.some((e) => e.model === "org/Beta" && e.phase === "download" && e.file));
  const tail = events.slice(-4);
  assert.deepEqual(
    tail.map((e) => [e.event, e.model]),
    [
      ["result", "org/Alpha"],
      ["result", "org/Beta"],
      ["error", "org/Missing"],
      ["summary", undefined],
    ],
  );
  assert.equal(tail[1].repo, "org/Beta");
  assert.equal(tail[2].error.exit_code, 2);
  assert.deepEqual(tail[3], {
    event: "summary",
    pulled: 2,
    failed: 1,
    models: [
      { model: "org/Alpha", ok: true },
      { model: "org/Beta", ok: true },
      { model: "org/Missing", ok: false },
    ],
  });
});

test("--revision and --name with several models are refused before anything is fetched", async () => {
  const home = tempDir();
  const result = await runCli(["pull", "org/Alpha", "org/Beta", "--revision", "v1"], { env: env(home) });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /--revision names one revision/);
  const named = await runCli(["pull", "org/Alpha", "org/Beta", "--name", "one"], { env: env(home) });
  assert.equal(named.code, 1);
  assert.match(named.stderr, /--name is about one file or folder/);
});

const hasTmux = spawnSync("tmux", ["-V"]).status === 0;

test("on an 80-column terminal: one bar per model and a total, every row within the width", {
  skip: !hasTmux,
}, async () => {
  const home = tempDir();
  // slow enough to see the bars: ~1.5 MB at 1 MB/s
  hub.faults.throttle = { bytesPerSecond: 1_000_000 };
  after(() => {
    hub.faults.throttle = undefined;
  });
  const vars = Object.entries(env(home)).map(([k, v]) => `${k}='${v}'`);
  const name = `gpux-pull-many-${process.pid}`;
  const command = `cd '${repoRoot}' && env ${vars.join(" ")} '${process.execPath}' '${cliPath}' pull org/Beta org/Gamma org/Missing; echo "EXIT=$?"; sleep 600`;
  execFileSync("tmux", ["new-session", "-d", "-s", name, "-x", "80", "-y", "40", command]);
  after(() => spawnSync("tmux", ["kill-session", "-t", name]));
  const screen = () =>
    execFileSync("tmux", ["capture-pane", "-p", "-t", name], { encoding: "utf8" })
      .split("\n")
      .map((l) => l.trimEnd());
  let during: string[] = [];
  const deadline = Date.now() + 60_000;
  for (let lines = screen(); !lines.some((l) => l.startsWith("EXIT=")); lines = screen()) {
    if (lines.some((l) => /^org\/Beta\s+\S*█/.test(l)) && lines.some((l) => /^total\s/.test(l)))
      during = lines;
    assert.ok(Date.now() < deadline, `timed out:\n${lines.join("\n")}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const end = screen();
  assert.ok(during.length > 0, `bars were seen:\n${end.join("\n")}`);
  for (const line of [...during, ...end]) assert.ok(line.length <= 80, `within 80 columns: '${line}'`);
  // a row per model (not per file): no file names in the bars
  assert.ok(!during.some((l) => /onnx\/model\.onnx\s+[█░]/.test(l)), during.join("\n"));
  assert.ok(
    end.some((l) => l === "EXIT=2"),
    end.join("\n"),
  );
  assert.ok(
    end.some((l) => /^org\/Gamma\s+ok\s/.test(l)),
    end.join("\n"),
  );
});
