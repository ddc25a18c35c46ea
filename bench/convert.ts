/**
 * bench/convert: pull + convert + first inference of a DistilBERT-base-sized repo (random weights, real config,
 * 2-label head, ~268 MB of safetensors) served by the fake Hub on 127.0.0.1, each phase timed, against the
 * earlier gpux's published pull + inspect figure (20.24 s). Run: npx tsx bench/convert.ts
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatTable } from "../src/cli/format-table.js";
import { cliPath, repoRoot } from "../test/helpers/cli.js";
import { startFakeHub } from "../test/helpers/fake-hub.js";
import { repoFromFolder } from "../test/helpers/fake-hub-repos.js";
import { python } from "../test/helpers/python.js";

const earlierPullPlusInspectS = 20.24;

function distilbertBaseRepo(): string {
  const script = join(repoRoot, "bench", "make_distilbert_base.py");
  const hash = createHash("sha256").update(readFileSync(script)).digest("hex").slice(0, 16);
  const dir = join(repoRoot, "test-output", `distilbert-base-random-${hash}`);
  if (existsSync(dir)) return dir;
  mkdirSync(join(repoRoot, "test-output"), { recursive: true });
  const work = `${dir}.tmp`;
  const made = spawnSync(python, [script, work], { stdio: "inherit" });
  if (made.status !== 0) throw new Error("make_distilbert_base.py failed");
  renameSync(work, dir);
  return dir;
}

/** Run the CLI; resolve with wall time and the time (since start) of the first stderr line matching `mark`. */
function timedCli(args: string[], env: NodeJS.ProcessEnv, mark?: RegExp) {
  return new Promise<{ ms: number; markMs?: number; stdout: string; stderr: string }>((resolve, reject) => {
    const started = performance.now();
    let markMs: number | undefined;
    let stdout = "";
    let stderr = "";
    const child = spawn(process.execPath, [cliPath, ...args], { env: { ...process.env, ...env } });
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
      if (mark && markMs === undefined && mark.test(stderr)) markMs = performance.now() - started;
    });
    child.on("close", (code) => {
      const ms = performance.now() - started;
      if (code !== 0) reject(new Error(`gpux ${args.join(" ")} exited ${code}:\n${stderr}`));
      else resolve({ ms, markMs, stdout, stderr });
    });
  });
}

const repoDir = distilbertBaseRepo();
const weightsMb = statSync(join(repoDir, "model.safetensors")).size / 1e6;
const hub = await startFakeHub({
  repos: [
    repoFromFolder(repoDir, "bench/distilbert-base-sst2-random", { pipelineTag: "text-classification" }),
  ],
});
const home = mkdtempSync(join(tmpdir(), "gpux-bench-convert-"));
const env = {
  HF_ENDPOINT: hub.url,
  HF_HUB_CACHE: join(home, "hf"),
  GPUX_HOME: join(home, "gpux"),
  HF_TOKEN: "",
};
try {
  // the pull prints "convert: …" progress on stderr when conversion starts: that splits download from convert
  const pull = await timedCli(["pull", "bench/distilbert-base-sst2-random"], env, /^convert: /m);
  const downloadMs = pull.markMs ?? 0;
  const convertMs = pull.ms - downloadMs;
  const input = JSON.stringify({
    input_ids: [[101, 7592, 2088, 2003, 1037, 3231, 102]],
    attention_mask: [[1, 1, 1, 1, 1, 1, 1]],
  });
  const run = await timedCli(
    ["run", "bench/distilbert-base-sst2-random", "--input", input, "--json"],
    env,
  ).catch(async () => {
    // the generated gpux.yml may ask for text: run the converted ONNX file itself with raw tensors
    const entry = JSON.parse((await timedCli(["ls", "--json"], env)).stdout).models[0].path as string;
    return timedCli(["run", join(entry, "model.onnx"), "--input", input, "--json"], env);
  });
  const repull = await timedCli(["pull", "bench/distilbert-base-sst2-random"], env);
  const total = pull.ms + run.ms;
  const s = (ms: number) => (ms / 1000).toFixed(2);
  process.stdout.write(
    `bench/convert: DistilBERT-base-sized classifier, ${weightsMb.toFixed(0)} MB safetensors, fake Hub on 127.0.0.1\n\n` +
      `${formatTable(
        ["phase", "wall s"],
        [
          ["pull: resolve + download + verify", s(downloadMs)],
          ["convert: export + validate (3 shapes)", s(convertMs)],
          ["first inference (gpux run, new process)", s(run.ms)],
          ["total pull + convert + first inference", s(total)],
          ["earlier gpux: pull + inspect (published)", earlierPullPlusInspectS.toFixed(2)],
          ["second pull (cached, no conversion)", s(repull.ms)],
        ],
      )}\n\n` +
      `total / earlier figure: ${(total / 1000 / earlierPullPlusInspectS).toFixed(2)}x\n`,
  );
} finally {
  await hub.close();
  rmSync(home, { recursive: true, force: true });
}
