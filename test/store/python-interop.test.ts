import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { runCli, runProcess } from "../helpers/cli.js";
import { startFakeHub } from "../helpers/fake-hub.js";
import { onnxRepo } from "../helpers/fake-hub-repos.js";
import { python, requirePython } from "../helpers/python.js";
import { tempDir } from "../helpers/temp-dir.js";

const gpuxFirst = onnxRepo("org/GpuxFirst", { pipelineTag: null, config: { model_type: "custom" } });
const pythonFirst = onnxRepo("org/PythonFirst", { pipelineTag: null, config: { model_type: "custom" } });
const hub = await startFakeHub({ repos: [gpuxFirst, pythonFirst] });
after(() => hub.close());

function env(home: string): NodeJS.ProcessEnv {
  return {
    HF_ENDPOINT: hub.url,
    HF_HOME: join(home, "hf"),
    HF_HUB_CACHE: join(home, "hf", "hub"),
    GPUX_HOME: join(home, "gpux"),
    HF_HUB_DISABLE_TELEMETRY: "1",
    HF_HUB_DISABLE_PROGRESS_BARS: "1",
  };
}

/**
 * Run huggingface_hub.snapshot_download in a child process (async: the fake hub answers from this process) and
 * return the snapshot folder and the files in it.
 */
async function snapshotDownload(
  home: string,
  repo: string,
  localOnly: boolean,
): Promise<{ dir: string; files: string[] }> {
  const script = [
    "import json, os",
    "from huggingface_hub import snapshot_download",
    `p = snapshot_download(${JSON.stringify(repo)}, local_files_only=${localOnly ? "True" : "False"})`,
    "files = sorted(os.path.relpath(os.path.join(d, f), p) for d, _, fs in os.walk(p) for f in fs)",
    "print(json.dumps({'dir': p, 'files': files}))",
  ].join("\n");
  const result = await runProcess(python, ["-c", script], { env: env(home) });
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout.trim().split("\n").pop() as string);
}

test("Python's snapshot_download(local_files_only=True) finds what gpux pulled", async (t) => {
  if (!requirePython(t, ["huggingface_hub"])) return;
  const home = tempDir();
  const pulled = await runCli(["pull", "org/GpuxFirst"], { env: env(home) });
  assert.equal(pulled.code, 0, pulled.stderr);
  const found = await snapshotDownload(home, "org/GpuxFirst", true);
  assert.ok(found.dir.endsWith(join("snapshots", hub.commitOf("org/GpuxFirst"))));
  assert.deepEqual(found.files, ["README.md", "config.json", "onnx/model.onnx", "onnx/model.onnx_data"]);
  assert.deepEqual(
    readFileSync(join(found.dir, "onnx/model.onnx_data")),
    Buffer.from(gpuxFirst.files["onnx/model.onnx_data"] as Uint8Array),
  );
});

test("a repo Python downloaded first is pulled by gpux with zero file downloads", async (t) => {
  if (!requirePython(t, ["huggingface_hub"])) return;
  const home = tempDir();
  const found = await snapshotDownload(home, "org/PythonFirst", false);
  assert.ok(found.files.includes("onnx/model.onnx_data"));
  assert.ok(
    (hub.stats.downloads.get("org/PythonFirst/onnx/model.onnx_data") ?? 0) >= 1,
    "Python fetched from the fake hub",
  );
  hub.resetStats();
  const pulled = await runCli(["pull", "org/PythonFirst", "--json"], { env: env(home) });
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.equal(hub.stats.downloads.size, 0, `gpux downloaded ${[...hub.stats.downloads.keys()].join(", ")}`);
  assert.equal(hub.stats.bytesServed, 0);
  const result = JSON.parse(pulled.stdout.trim().split("\n").pop() as string);
  assert.equal(result.downloaded_bytes, 0);
  const run = await runCli(["run", "org/PythonFirst", "--input", JSON.stringify({ x: [[0, 0, 0, 0]] })], {
    env: env(home),
    cwd: home,
  });
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), { y: [[1, 2, 3, 4]] });
});
