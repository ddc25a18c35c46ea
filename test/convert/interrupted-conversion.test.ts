import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { cliPath, repoRoot, runCli } from "../helpers/cli.js";
import { startFakeHub } from "../helpers/fake-hub.js";
import { repoFromFolder } from "../helpers/fake-hub-repos.js";
import { missingPythonModules, requirePython } from "../helpers/python.js";
import { tempDir } from "../helpers/temp-dir.js";
import { tinyReference, tinyTransformersDir } from "../helpers/tiny-transformers.js";

const modules = ["torch", "transformers", "onnx", "onnxruntime"];
const fixtures = missingPythonModules(modules) ? undefined : tinyTransformersDir();
const source = fixtures && join(fixtures, "distilbert-sst2");
const hub = await startFakeHub({
  repos: source
    ? [repoFromFolder(source, "tiny/interrupted", { pipelineTag: tinyReference(source).pipeline_tag })]
    : [],
});
after(() => hub.close());

/** Every process whose parent is `pid` (Linux /proc). */
function childrenOf(pid: number): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .filter((name) => {
      try {
        const stat = readFileSync(`/proc/${name}/stat`, "utf8");
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const state = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0];
    return state !== "Z";
  } catch {
    return false;
  }
}

/** Every file and folder under `dir`, relative to it. */
function listAll(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true }).map(String);
}

/**
 * Run gpux, and once the converter reports it is loading the checkpoint (the Python child is at work), send
 * `signal` to gpux alone (not its process group: the signal must be passed on). Resolves with what happened.
 */
function interruptDuringConversion(args: string[], env: NodeJS.ProcessEnv, signal: NodeJS.Signals) {
  return new Promise<{ code: number | null; stderr: string; children: number[] }>((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    let children: number[] = [];
    let sent = false;
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
      if (!sent && /loading \w+ from /.test(stderr)) {
        sent = true;
        children = childrenOf(child.pid as number);
        child.kill(signal);
      }
    });
    child.stdout.resume();
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr, children }));
  });
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  test(`${signal} during a pull's conversion: exit ${signal === "SIGINT" ? 130 : 143}, no temp folder, no converter, no lock; the next pull converts`, async (t) => {
    if (!requirePython(t, modules)) return;
    const home = tempDir();
    const env = {
      HF_ENDPOINT: hub.url,
      HF_HUB_CACHE: join(home, "hf", "hub"),
      HF_TOKEN: "",
      GPUX_HOME: join(home, "gpux"),
    };
    const result = await interruptDuringConversion(["pull", "tiny/interrupted"], env, signal);
    assert.equal(result.code, signal === "SIGINT" ? 130 : 143, result.stderr);
    assert.match(result.stderr, /interrupted; run the same command to resume/);
    assert.doesNotMatch(result.stderr, /error:/);
    assert.ok(result.children.length > 0, "the converter was running when the signal came");
    for (const pid of result.children) assert.ok(!running(pid), `converter ${pid} still runs`);
    const models = join(home, "gpux", "models");
    assert.deepEqual(
      listAll(models).filter((p) => /\.tmp-|\.converting-/.test(p)),
      [],
    );
    assert.deepEqual(listAll(join(home, "gpux", "locks")), []);

    // a build folder left by a pull killed with SIGKILL (no clean-up ran) is swept by the next pull
    const stale = join(
      models,
      "huggingface",
      "tiny",
      "interrupted",
      ".tmp-4194305-deadbeef",
      ".converting-x",
    );
    mkdirSync(stale, { recursive: true });
    const again = await runCli(["pull", "tiny/interrupted"], { env });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(
      listAll(models).filter((p) => /\.tmp-|\.converting-/.test(p)),
      [],
    );
  });
}

/** A writable copy of the tiny checkpoint. */
function checkpointCopy(): string {
  const repo = join(tempDir(), "checkpoint");
  cpSync(source as string, repo, { recursive: true });
  return repo;
}

test("SIGTERM during gpux convert <folder>: exit 143, no .gpux/ left in the folder, no converter", async (t) => {
  if (!requirePython(t, modules)) return;
  const repo = checkpointCopy();
  const result = await interruptDuringConversion(["convert", repo], {}, "SIGTERM");
  assert.equal(result.code, 143, result.stderr);
  for (const pid of result.children) assert.ok(!running(pid), `converter ${pid} still runs`);
  assert.ok(!existsSync(join(repo, ".gpux")), `left behind: ${listAll(join(repo, ".gpux")).join(", ")}`);
});

test("a failed gpux convert <folder> leaves no empty .gpux/ in the folder", async (t) => {
  if (!requirePython(t, modules)) return;
  const repo = checkpointCopy();
  const weights = join(repo, "model.safetensors");
  truncateSync(weights, Math.floor(readFileSync(weights).length / 2));
  const result = await runCli(["convert", repo]);
  assert.equal(result.code, 1, result.stderr);
  assert.ok(!existsSync(join(repo, ".gpux")), `left behind: ${listAll(join(repo, ".gpux")).join(", ")}`);
});
