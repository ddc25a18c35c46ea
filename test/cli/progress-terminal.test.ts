import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import { after, test } from "node:test";
import { cliPath, repoRoot } from "../helpers/cli.js";
import { startFakeHub } from "../helpers/fake-hub.js";
import { onnxRepo } from "../helpers/fake-hub-repos.js";
import { tempDir } from "../helpers/temp-dir.js";

// A 4 MB weights file (1M float32) served at 1 MB/s: a few seconds of bars, in a real terminal (tmux).
const rate = 1_000_000;
const hub = await startFakeHub({ repos: [onnxRepo("org/Bars", { width: 1024 * 1024 })] });
after(() => hub.close());
const hasTmux = spawnSync("tmux", ["-V"]).status === 0;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A detached tmux session of `width` columns running `gpux pull org/Bars`, then printing its exit code. */
function startPull(name: string, width: number, home: string): void {
  const env = {
    HF_ENDPOINT: hub.url,
    HF_HUB_CACHE: join(home, "hub"),
    HF_TOKEN: "",
    GPUX_HOME: join(home, "gpux"),
  };
  const assignments = Object.entries(env).map(([k, v]) => `${k}='${v}'`);
  const command = `cd '${repoRoot}' && env ${assignments.join(" ")} '${process.execPath}' '${cliPath}' pull org/Bars; echo "EXIT=$?"; sleep 600`;
  execFileSync("tmux", ["new-session", "-d", "-s", name, "-x", String(width), "-y", "40", command]);
  after(() => spawnSync("tmux", ["kill-session", "-t", name]));
}

function screen(name: string): string[] {
  const text = execFileSync("tmux", ["capture-pane", "-p", "-t", name], { encoding: "utf8" });
  return text.split("\n").map((line) => line.trimEnd());
}

async function waitFor(
  name: string,
  found: (lines: string[]) => boolean,
  timeoutMs = 60_000,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = screen(name);
    if (found(lines)) return lines;
    if (Date.now() > deadline) throw new Error(`timed out; the screen:\n${lines.join("\n")}`);
    await sleep(100);
  }
}

/** Bytes per second from a "1.2 MB/s" on the total's row (or the row after it). */
function shownRate(lines: string[]): number | undefined {
  const at = lines.findIndex((l) => /^total\b/.test(l));
  const text = lines.slice(at, at + 2).join(" ");
  const match = /(\d+(?:\.\d+)?) (B|KB|MB|GB)\/s/.exec(text);
  if (at < 0 || !match) return undefined;
  return Number(match[1]) * { B: 1, KB: 1e3, MB: 1e6, GB: 1e9 }[match[2] as "B"];
}

const files = ["onnx/model.onnx_data", "onnx/model.onnx", "config.json", "README.md"];

for (const width of [80, 160]) {
  test(`gpux pull in a ${width}-column terminal: rate and ETA fit; the final screen has each row once`, async (t) => {
    if (!hasTmux) {
      t.skip("tmux is not installed (apt-get install tmux)");
      return;
    }
    const home = tempDir();
    const name = `gpux-bars-${width}-${process.pid}`;
    hub.faults.throttle = { bytesPerSecond: rate, chunkSize: 64 * 1024 };
    startPull(name, width, home);
    const during = await waitFor(name, (lines) => lines.some((l) => /^total .*\/s, ETA \d/.test(l)));
    for (const line of during) assert.ok(line.length < width, `wider than ${width}: ${line}`);
    const final = await waitFor(name, (lines) => lines.some((l) => l.startsWith("EXIT=")));
    hub.faults.throttle = undefined;
    assert.ok(final.includes("EXIT=0"), final.join("\n"));
    const rows = final.filter((l) => /█|░/.test(l));
    const barRows = rows.map((l) => l.split(/\s+/)[0]);
    assert.deepEqual([...barRows].sort(), [...files, "total"].sort(), final.join("\n"));
    // the block is contiguous and the log lines are above it, never inside
    const first = final.indexOf(rows[0] as string);
    const total = final.findIndex((l) => /^total\b/.test(l));
    assert.equal(total - first, files.length, final.join("\n"));
    const resolve = final.findIndex((l) => l.startsWith("resolve: "));
    assert.ok(resolve >= 0 && resolve < first, final.join("\n"));
    assert.ok(final.findIndex((l) => l.startsWith("pulled org/Bars")) > total, final.join("\n"));
    for (const line of final) assert.ok(line.length < width, `wider than ${width}: ${line}`);
  });
}

test("after Ctrl-C and a resume, the rate counts only the bytes moved in this run", async (t) => {
  if (!hasTmux) {
    t.skip("tmux is not installed (apt-get install tmux)");
    return;
  }
  const home = tempDir();
  const name = `gpux-resume-${process.pid}`;
  hub.faults.throttle = { bytesPerSecond: rate, chunkSize: 64 * 1024 };
  startPull(name, 120, home);
  await waitFor(name, (lines) => lines.some((l) => /^onnx\/model\.onnx_data .* 3\.\d MB \//.test(l)));
  execFileSync("tmux", ["send-keys", "-t", name, "C-c"]);
  const stopped = await waitFor(name, (lines) => lines.some((l) => l.startsWith("EXIT=")));
  assert.ok(stopped.includes("EXIT=130"), stopped.join("\n"));
  assert.ok(
    stopped.some((l) => l === "interrupted; run the same command to resume (SIGINT)"),
    stopped.join("\n"),
  );
  spawnSync("tmux", ["kill-session", "-t", name]);

  // the resumed pull moves the last ~1 MB at 1 MB/s; counting the 3 MB on disk would show 3 MB/s or more
  const again = `${name}-again`;
  startPull(again, 120, home);
  const seen: number[] = [];
  const final = await waitFor(again, (lines) => {
    const shown = shownRate(lines);
    if (shown !== undefined && !lines.some((l) => l.startsWith("EXIT="))) seen.push(shown);
    return lines.some((l) => l.startsWith("EXIT="));
  });
  hub.faults.throttle = undefined;
  assert.ok(final.includes("EXIT=0"), final.join("\n"));
  assert.ok(seen.length > 0, final.join("\n"));
  assert.ok(Math.max(...seen) < 2 * rate, `shown rates ${seen.join(", ")} B/s; served at ${rate} B/s`);
});
