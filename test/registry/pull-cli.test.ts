import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { runCli } from "../helpers/cli.js";
import { startFakeHub } from "../helpers/fake-hub.js";
import { onnxRepo } from "../helpers/fake-hub-repos.js";
import { tempDir } from "../helpers/temp-dir.js";

const hub = await startFakeHub({
  repos: [
    onnxRepo("org/Name", {
      pipelineTag: null,
      config: { model_type: "custom" },
      extraFiles: { "model.safetensors": new Uint8Array(2048) },
    }),
    onnxRepo("org/Classifier"),
    { ...onnxRepo("org/Private"), private: true },
    { ...onnxRepo("org/Gated"), gated: true, acceptedTokens: ["hf_accepted"] },
  ],
});
after(() => hub.close());

function env(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    HF_ENDPOINT: hub.url,
    HF_HOME: join(home, "hf"),
    HF_HUB_CACHE: join(home, "hf", "hub"),
    HF_TOKEN: "",
    GPUX_HOME: join(home, "gpux"),
    GPUX_HUB_BACKOFF_MS: "10",
    ...extra,
  };
}

test("pull an ONNX repo, run it by the typed name (any case), list it, remove it", async () => {
  const home = tempDir();
  const pulled = await runCli(["pull", "org/Name"], { env: env(home) });
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.match(pulled.stdout, /pulled org\/Name@main/);
  // progress on a pipe: plain lines, each file once, one total line at the end, numbers rounded
  assert.match(pulled.stderr, /^downloading onnx\/model\.onnx \(\d+ B\)$/m);
  assert.match(pulled.stderr, /^onnx\/model\.onnx: verified$/m);
  assert.equal(pulled.stderr.match(/^ {2}\S+ \S+ of \S+ \S+, /gm)?.length, 1, pulled.stderr);
  assert.doesNotMatch(pulled.stderr, /\d\.\d{2,}/);

  const input = JSON.stringify({ x: [[1, 1, 1, 1]] });
  for (const name of ["org/Name", "org/name", "hf:org/Name"]) {
    const run = await runCli(["run", name, "--input", input], { env: env(home), cwd: home });
    assert.equal(run.code, 0, `${name}: ${run.stderr}`);
    assert.deepEqual(JSON.parse(run.stdout), { y: [[2, 3, 4, 5]] });
  }

  const ls = await runCli(["ls", "--json"], { env: env(home) });
  const { models } = JSON.parse(ls.stdout);
  assert.equal(models.length, 1);
  assert.equal(models[0].name, "org/Name");
  assert.equal(models[0].commit, hub.commitOf("org/Name"));
  assert.equal(models[0].task, null);
  const manifest = JSON.parse(readFileSync(join(models[0].path, "manifest.json"), "utf8"));
  assert.deepEqual(
    manifest.files.map((f: { path: string }) => f.path),
    ["README.md", "config.json", "onnx/model.onnx", "onnx/model.onnx_data"],
  );
  const yml = readFileSync(join(models[0].path, "gpux.yml"), "utf8");
  assert.match(yml, /name: org\/Name/);
  assert.match(yml, /description: A tiny test model/);
  assert.match(yml, /- name: x\n\s+type: float32\n\s+shape:\n\s+- batch\n\s+- 4/);

  const table = await runCli(["ls"], { env: env(home) });
  assert.match(table.stdout, /org\/Name\s+main\s+[0-9a-f]{12}\s+onnx\s+raw/);

  const inspect = await runCli(["inspect", "org/name"], { env: env(home), cwd: home });
  assert.equal(inspect.code, 0, inspect.stderr);
  assert.match(inspect.stdout, /registry:\s+huggingface \(http:\/\/127\.0\.0\.1:\d+\)/);
  assert.match(inspect.stdout, new RegExp(`commit:\\s+${hub.commitOf("org/Name")}`));
  assert.match(inspect.stdout, /onnx\/model\.onnx_data\s+16 B\s+[0-9a-f]{16}/);
  const inspectJson = JSON.parse(
    (await runCli(["inspect", "org/Name", "--json"], { env: env(home), cwd: home })).stdout,
  );
  assert.deepEqual(inspectJson.pulled.revisions, ["main"]);

  const rm = await runCli(["rm", "org/name"], { env: env(home) });
  assert.equal(rm.code, 0, rm.stderr);
  const after = await runCli(["ls", "--json"], { env: env(home) });
  assert.deepEqual(JSON.parse(after.stdout).models, []);
  // removed, and not pulled again (run's default would: test/cli/pull-policy.test.ts)
  const missing = await runCli(["run", "org/Name", "--input", input, "--pull", "never"], {
    env: env(home),
    cwd: home,
  });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /gpux pull org\/Name/);
});

test("a second pull of the same revision only resolves the revision", async () => {
  const home = tempDir();
  assert.equal((await runCli(["pull", "org/Name"], { env: env(home) })).code, 0);
  hub.resetStats();
  const started = Date.now();
  const again = await runCli(["pull", "org/Name", "--json"], { env: env(home) });
  const elapsed = Date.now() - started;
  assert.equal(again.code, 0, again.stderr);
  const result = JSON.parse(again.stdout.trim().split("\n").pop() as string);
  assert.equal(result.cached, true);
  assert.deepEqual(hub.stats.requests, ["GET /api/models/org/Name/revision/main"]);
  assert.ok(result.elapsed_ms < 1000, `second pull took ${result.elapsed_ms} ms`);
  assert.ok(elapsed < 10_000);
});

test("gpux.yml from a classifier repo: task from pipeline_tag, labels from id2label", async () => {
  const home = tempDir();
  const pulled = await runCli(["pull", "org/Classifier", "--json"], { env: env(home) });
  assert.equal(pulled.code, 0, pulled.stderr);
  const result = JSON.parse(pulled.stdout.trim().split("\n").pop() as string);
  assert.equal(result.task, "text-classification");
  const yml = readFileSync(join(result.path, "gpux.yml"), "utf8");
  assert.match(yml, /task: text-classification/);
  assert.match(yml, /labels:\n\s+- NEGATIVE\n\s+- POSITIVE/);
  const events = pulled.stdout
    .trim()
    .split("\n")
    .slice(0, -1)
    .map((line) => JSON.parse(line));
  assert.ok(
    events.some((e) => e.event === "progress" && e.phase === "download" && e.file === "onnx/model.onnx"),
  );
});

test("--dry-run lists files and sizes and writes nothing", async () => {
  const home = tempDir();
  const dry = await runCli(
    ["pull", "org/Name", "--dry-run", "--exclude", "README.md", "--include", "*.safetensors"],
    {
      env: env(home),
    },
  );
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /would fetch 4 files/);
  assert.match(dry.stdout, /model\.safetensors\s+2\.0 KB/);
  assert.doesNotMatch(dry.stdout, /README/);
  assert.ok(!existsSync(join(home, "gpux", "models")));
});

test("private and gated repos: clear errors without a token, success with one; the token is never printed", async () => {
  const home = tempDir();
  const denied = await runCli(["pull", "org/Private"], { env: env(home) });
  assert.equal(denied.code, 1);
  assert.match(denied.stderr, /private or gated/);
  assert.match(denied.stderr, /--token|HF_TOKEN/);
  const ok = await runCli(["pull", "org/Private", "--token", hub.token, "--verbose"], { env: env(home) });
  assert.equal(ok.code, 0, ok.stderr);
  assert.ok(!`${ok.stdout}${ok.stderr}`.includes(hub.token));

  const gated = await runCli(["pull", "org/Gated", "--token", hub.token], { env: env(home) });
  assert.equal(gated.code, 1);
  assert.match(gated.stderr, /accept the model's terms at http:\/\/127\.0\.0\.1:\d+\/org\/Gated/i);
  assert.ok(!gated.stderr.includes(hub.token));
  const tokenFile = await runCli(["pull", "org/Gated"], { env: env(home, { HF_TOKEN: "" }) });
  assert.equal(tokenFile.code, 1);
  const { writeFileSync, mkdirSync } = await import("node:fs");
  mkdirSync(join(home, "hf"), { recursive: true });
  writeFileSync(join(home, "hf", "token"), "hf_accepted\n");
  const accepted = await runCli(["pull", "org/Gated"], { env: env(home) });
  assert.equal(accepted.code, 0, accepted.stderr);
});

test("unknown models and revisions are 'not found' (exit 2); offline without a cache says so", async () => {
  const home = tempDir();
  const missing = await runCli(["pull", "org/Nope"], { env: env(home) });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /No such model 'org\/Nope'/);
  const rev = await runCli(["pull", "org/Name@nope"], { env: env(home) });
  assert.equal(rev.code, 2);
  assert.match(rev.stderr, /Revision 'nope' of 'org\/Name' does not exist/);
  const offline = await runCli(["pull", "org/Name", "--offline"], { env: env(home) });
  assert.equal(offline.code, 2);
  assert.match(offline.stderr, /not in the Hugging Face cache, and gpux is offline/);
  assert.equal(
    readdirSync(home).includes("gpux") && existsSync(join(home, "gpux", "models", "huggingface")),
    false,
  );
});
