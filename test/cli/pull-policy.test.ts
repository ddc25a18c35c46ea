import assert from "node:assert/strict";
import { join } from "node:path";
import { after, test } from "node:test";
import { runCli } from "../helpers/cli.js";
import { startFakeHub } from "../helpers/fake-hub.js";
import { onnxRepo } from "../helpers/fake-hub-repos.js";
import { tempDir } from "../helpers/temp-dir.js";

const hub = await startFakeHub({ repos: [onnxRepo("org/Name"), onnxRepo("org/Other")] });
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

const input = JSON.stringify({ x: [[1, 1, 1, 1]] });
const answer = { y: [[2, 3, 4, 5]] };
const storedCommit = async (home: string) =>
  JSON.parse((await runCli(["ls", "--json"], { env: env(home) })).stdout).models.map(
    (m: { commit: string }) => m.commit,
  );

test("run pulls a registry reference that is not in the store, as docker run does; stdout keeps only the answer", async () => {
  const home = tempDir();
  const first = await runCli(["run", "org/Name", "--input", input], { env: env(home), cwd: home });
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(JSON.parse(first.stdout), answer);
  assert.match(first.stderr, /^pull: pulling org\/Name$/m);
  assert.match(first.stderr, /^pulled org\/Name@main \([0-9a-f]{12}\)$/m);
  assert.deepEqual(await storedCommit(home), [hub.commitOf("org/Name")]);

  // in the store now: the default (missing) asks the registry nothing
  hub.resetStats();
  const second = await runCli(["run", "org/Name", "--input", input, "--json"], { env: env(home), cwd: home });
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual(hub.stats.requests, []);
  assert.equal(second.stdout.trim().split("\n").length, 1);
  assert.deepEqual(JSON.parse(second.stdout).result, answer);
  assert.doesNotMatch(second.stderr, /pull/);
});

test("--pull always asks the registry and takes its new commit; missing keeps the stored one", async () => {
  const home = tempDir();
  assert.equal((await runCli(["pull", "org/Other"], { env: env(home) })).code, 0);
  const old = hub.commitOf("org/Other");
  hub.addRepo(onnxRepo("org/Other", { extraFiles: { "NOTES.md": "a new commit" } }));
  assert.notEqual(hub.commitOf("org/Other"), old);

  const missing = await runCli(["run", "org/Other", "--input", input], { env: env(home), cwd: home });
  assert.equal(missing.code, 0, missing.stderr);
  assert.deepEqual(await storedCommit(home), [old]);

  const always = await runCli(["run", "org/Other", "--pull", "always", "--input", input], {
    env: env(home),
    cwd: home,
  });
  assert.equal(always.code, 0, always.stderr);
  assert.deepEqual(JSON.parse(always.stdout), answer);
  assert.equal((await storedCommit(home))[0], hub.commitOf("org/Other"));
});

test("--pull never gives the not-found error with a hint naming gpux pull, and fetches nothing", async () => {
  const home = tempDir();
  hub.resetStats();
  const never = await runCli(["run", "org/Name", "--pull", "never", "--input", input], {
    env: env(home),
    cwd: home,
  });
  assert.equal(never.code, 2, never.stderr);
  assert.match(never.stderr, /^error: Model 'org\/Name' not found/m);
  assert.match(never.stderr, /^hint: .*`gpux pull org\/Name`/m);
  assert.deepEqual(hub.stats.requests, []);

  const bad = await runCli(["run", "org/Name", "--pull", "sometimes"], { env: env(home), cwd: home });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /Allowed choices are missing, always, never/);
});

test("a name neither here nor on the registry says both, and offers the pulled names close to it", async () => {
  const home = tempDir();
  assert.equal((await runCli(["pull", "org/Name"], { env: env(home) })).code, 0);
  const typo = await runCli(["run", "org/Nme", "--input", input], { env: env(home), cwd: home });
  assert.equal(typo.code, 2, typo.stderr);
  assert.match(typo.stderr, /^error: Model 'org\/Nme' not found .* Pulling it failed too: /m);
  assert.match(typo.stderr, /^hint: .*Did you mean: org\/Name/m);
  // a registry that cannot be reached: still "not found" (exit 2), with the registry's own error and hint
  const offline = await runCli(["run", "org/Nme", "--input", input], {
    env: { ...env(home), HF_ENDPOINT: "http://127.0.0.1:9", GPUX_HUB_RETRIES: "1" },
    cwd: home,
  });
  assert.equal(offline.code, 2, offline.stderr);
  assert.match(offline.stderr, /^error: Model 'org\/Nme' not found .* Pulling it failed too: Cannot reach /m);
  assert.match(offline.stderr, /^hint: .*Did you mean: org\/Name/m);
  // a path is never pulled
  const path = await runCli(["run", "./org/Name", "--input", input], { env: env(home), cwd: home });
  assert.equal(path.code, 2);
  assert.match(path.stderr, /Model file '\.\/org\/Name' does not exist/);
});

test("--input - , --input @- and --file - read the request from stdin", async () => {
  const home = tempDir();
  assert.equal((await runCli(["pull", "org/Name"], { env: env(home) })).code, 0);
  for (const args of [
    ["--input", "-"],
    ["--input", "@-"],
    ["--file", "-"],
  ]) {
    const run = await runCli(["run", "org/Name", ...args], { env: env(home), cwd: home, input });
    assert.equal(run.code, 0, `${args.join(" ")}: ${run.stderr}`);
    assert.deepEqual(JSON.parse(run.stdout), answer);
  }
  const broken = await runCli(["run", "org/Name", "--input", "-"], {
    env: env(home),
    cwd: home,
    input: "{x",
  });
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /^error: The request on stdin is not valid JSON/m);
});

test("serve -d of a reference not in the store pulls it first (here, with the progress), then serves it", async () => {
  const home = tempDir();
  const started = await runCli(["serve", "-d", "org/Name", "--port", "0"], { env: env(home), cwd: home });
  assert.equal(started.code, 0, started.stderr);
  try {
    assert.match(started.stderr, /^pulled org\/Name@main \([0-9a-f]{12}\)$/m);
    const [, url] = started.stdout.trim().split(" ") as [string, string];
    const response = await fetch(`${url}predict`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: input,
    });
    assert.deepEqual(await response.json(), answer);
  } finally {
    assert.equal((await runCli(["stop", "all"], { env: env(home) })).code, 0);
  }
});
