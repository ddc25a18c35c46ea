/**
 * bench/pull: `gpux pull` of a ~250 MB ONNX repo from the fake hub on loopback, next to `curl` fetching the
 * same files from the same server, alternating in one run (and alternating which of the two goes first). gpux also verifies sha256, writes the Hugging Face
 * cache layout, the store entry and gpux.yml; curl only writes the bytes. Both are child processes, so both
 * pay their process start.
 *
 *   npx tsx bench/pull.ts [--mb 250] [--rounds 3]
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatTable } from "../src/cli/format-table.js";
import { startFakeHub } from "../test/helpers/fake-hub.js";
import { onnxRepo } from "../test/helpers/fake-hub-repos.js";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const megabytes = arg("mb", 250);
const rounds = arg("rounds", 3);
const cli = join(import.meta.dirname, "..", "dist", "cli", "main.js");

function timed(command: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  const started = process.hrtime.bigint();
  const child = spawn(command, args, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) =>
    child.on("close", (code) => {
      if (code !== 0) reject(new Error(`${command} ${args.join(" ")} exited ${code}: ${stderr}`));
      else resolve(Number(process.hrtime.bigint() - started) / 1e9);
    }),
  );
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

const repo = onnxRepo("bench/Big", { width: Math.round((megabytes * 1e6) / 4), pipelineTag: null });
const files = Object.keys(repo.files).filter((f) => f !== ".gitattributes");
const bytes = files.reduce((sum, f) => sum + (repo.files[f] as Uint8Array | string).length, 0);
const hub = await startFakeHub({ repos: [repo] });
const work = mkdtempSync(join(tmpdir(), "gpux-bench-pull-"));
const gpux: number[] = [];
const curl: number[] = [];
try {
  for (let round = 0; round < rounds; round++) {
    const dir = join(work, String(round));
    const urls = files.flatMap((f, i) => [
      "-o",
      join(dir, "curl", String(i)),
      `${hub.url}/bench/Big/resolve/main/${f}`,
    ]);
    const runCurl = async () => curl.push(await timed("curl", ["-sSfL", "--create-dirs", ...urls]));
    const runGpux = async () =>
      gpux.push(
        await timed(process.execPath, [cli, "pull", "bench/Big"], {
          HF_ENDPOINT: hub.url,
          HF_HUB_CACHE: join(dir, "hub"),
          GPUX_HOME: join(dir, "gpux"),
        }),
      );
    // Who goes first alternates: the second writer of 250 MB in a round can find the disk busy with the first's.
    if (round % 2 === 0) {
      await runCurl();
      await runGpux();
    } else {
      await runGpux();
      await runCurl();
    }
    rmSync(dir, { recursive: true, force: true });
  }
} finally {
  await hub.close();
  rmSync(work, { recursive: true, force: true });
}

const rate = (s: number) => `${(bytes / 1e6 / s).toFixed(0)} MB/s`;
const rows = [
  ["curl", ...curl.map((s) => s.toFixed(2)), median(curl).toFixed(2), rate(median(curl)), "1.00"],
  [
    "gpux pull",
    ...gpux.map((s) => s.toFixed(2)),
    median(gpux).toFixed(2),
    rate(median(gpux)),
    (median(gpux) / median(curl)).toFixed(2),
  ],
];
const header = ["", ...curl.map((_, i) => `run ${i + 1} s`), "median s", "rate", "vs curl"];
process.stdout.write(
  `pull of ${files.length} files, ${(bytes / 1e6).toFixed(1)} MB, fake hub on 127.0.0.1, ${rounds} alternating rounds\n\n${formatTable(header, rows)}\n`,
);
