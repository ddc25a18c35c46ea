/**
 * bench/oci: `gpux push` and `gpux pull` of a ~268 MB ONNX model (graph + external data, the size of
 * DistilBERT-base, made as bench/pull.ts makes its model) against Debian's docker-registry on 127.0.0.1, side by
 * side with `skopeo copy` of the same artifact in the same run: skopeo pulls it into an OCI layout folder and
 * pushes that folder to a fresh registry. gpux's pull also verifies every digest, links the snapshot and writes
 * the store entry and gpux.yml. gpux pushes the pulled model (digests known from the store's manifest) and,
 * to make the artifact in the first place, the folder (hashed first: a folder has no digests yet). Every push
 * goes to an empty registry, so nothing is skipped or mounted; the order alternates per round.
 *
 *   npm run build && npx tsx bench/oci.ts [--mb 268] [--rounds 3]
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { formatTable } from "../src/cli/format-table.js";
import { onnxRepo } from "../test/helpers/fake-hub-repos.js";
import { registryMissing, startRegistry } from "../test/helpers/oci-registry-server.js";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const megabytes = arg("mb", 268);
const rounds = arg("rounds", 3);
const cli = join(import.meta.dirname, "..", "dist", "cli", "main.js");
const missing = registryMissing();
if (missing) throw new Error(missing);

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

const work = mkdtempSync(join(tmpdir(), "gpux-bench-oci-"));
const repo = onnxRepo("bench/oci", { width: Math.round((megabytes * 1e6) / 4), pipelineTag: null });
const folder = join(work, "model");
let bytes = 0;
for (const [path, content] of Object.entries(repo.files)) {
  if (path === ".gitattributes") continue;
  mkdirSync(dirname(join(folder, path)), { recursive: true });
  writeFileSync(join(folder, path), content);
  bytes += content.length;
}
const times = {
  gpuxPushFolder: [] as number[],
  gpuxPush: [] as number[],
  skopeoPush: [] as number[],
  gpuxPull: [] as number[],
  skopeoPull: [] as number[],
};
const noTls = ["--src-tls-verify=false", "--dest-tls-verify=false"];
try {
  for (let round = 0; round < rounds; round++) {
    const dir = join(work, String(round));
    mkdirSync(dir, { recursive: true });
    const source = await startRegistry();
    const target = await startRegistry();
    const target2 = await startRegistry();
    try {
      const ref = `${source.host}/bench/model:v1`;
      const layout = join(dir, "layout");
      const gpuxPushFolder = async () =>
        times.gpuxPushFolder.push(
          await timed(process.execPath, [cli, "push", folder, ref], { GPUX_HOME: join(dir, "push-home") }),
        );
      // the pulled model: its digests are in the store's manifest, so nothing is hashed before the upload
      const gpuxPush = async () =>
        times.gpuxPush.push(
          await timed(
            process.execPath,
            [cli, "push", `${source.host}/bench/model`, `${target2.host}/bench/model:v1`],
            {
              GPUX_HOME: join(dir, "pull-home"),
            },
          ),
        );
      const gpuxPull = async () =>
        times.gpuxPull.push(
          await timed(process.execPath, [cli, "pull", ref], { GPUX_HOME: join(dir, "pull-home") }),
        );
      const skopeoPull = async () =>
        times.skopeoPull.push(
          await timed("skopeo", ["copy", ...noTls, `docker://${ref}`, `oci:${layout}:v1`]),
        );
      const skopeoPush = async () =>
        times.skopeoPush.push(
          await timed("skopeo", [
            "copy",
            ...noTls,
            `oci:${layout}:v1`,
            `docker://${target.host}/bench/model:v1`,
          ]),
        );
      // gpux's push makes the artifact both then pull; skopeo's push needs the layout its pull wrote
      await gpuxPushFolder();
      if (round % 2 === 0) {
        await skopeoPull();
        await gpuxPull();
        await skopeoPush();
        await gpuxPush();
      } else {
        await gpuxPull();
        await skopeoPull();
        await gpuxPush();
        await skopeoPush();
      }
    } finally {
      await source.close();
      await target.close();
      await target2.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const rate = (s: number) => `${(bytes / 1e6 / s).toFixed(0)} MB/s`;
const row = (name: string, values: number[], against: number[]) => [
  name,
  ...values.map((s) => s.toFixed(2)),
  median(values).toFixed(2),
  rate(median(values)),
  (median(values) / median(against)).toFixed(2),
];
const header = ["", ...times.gpuxPull.map((_, i) => `run ${i + 1} s`), "median s", "rate", "vs skopeo"];
process.stdout.write(
  `push and pull of ${(bytes / 1e6).toFixed(1)} MB (${Object.keys(repo.files).length - 1} files), docker-registry on 127.0.0.1, ${rounds} rounds\n\n${formatTable(
    header,
    [
      row("skopeo copy (pull to oci:)", times.skopeoPull, times.skopeoPull),
      row("gpux pull", times.gpuxPull, times.skopeoPull),
      row("skopeo copy (push from oci:)", times.skopeoPush, times.skopeoPush),
      row("gpux push (the pulled model)", times.gpuxPush, times.skopeoPush),
      row("gpux push (a folder: hashed first)", times.gpuxPushFolder, times.skopeoPush),
    ],
  )}\n`,
);

// Each round runs gpux and skopeo back to back: the ratio within a round is free of the host's drift
// between rounds. The target (≤ 1.0× skopeo's time) is read on the medians; both are printed to 3 places.
const sameRound = (gpux: number[], skopeo: number[]) => gpux.map((s, i) => s / (skopeo[i] as number));
for (const [name, gpux, skopeo] of [
  ["pull", times.gpuxPull, times.skopeoPull],
  ["push", times.gpuxPush, times.skopeoPush],
] as Array<[string, number[], number[]]>) {
  const ratioOfMedians = median(gpux) / median(skopeo);
  const perRound = sameRound(gpux, skopeo);
  process.stdout.write(
    `\ngpux ${name} / skopeo: ${ratioOfMedians.toFixed(3)} by the medians (target ≤ 1.0) ${ratioOfMedians <= 1 ? "PASS" : "MISS"};` +
      ` same-round ratios ${perRound.map((r) => r.toFixed(2)).join(" ")}, median ${median(perRound).toFixed(3)},` +
      ` gpux faster in ${perRound.filter((r) => r < 1).length} of ${perRound.length}`,
  );
}
process.stdout.write("\n");
