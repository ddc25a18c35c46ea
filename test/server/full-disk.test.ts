import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { runCli } from "../helpers/cli.js";
import { startFakeHub } from "../helpers/fake-hub.js";
import { onnxRepo } from "../helpers/fake-hub-repos.js";

/** A 512 KiB tmpfs, where the system lets this process mount one (root in a container); else undefined. */
function tinyDisk(): string | undefined {
  // Outside the test temp folders: those are removed before this file's after() hooks unmount it.
  const mountPoint = mkdtempSync(join(tmpdir(), "gpux-tiny-disk-"));
  const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=512k", "tmpfs", mountPoint]);
  if (mounted.status !== 0) {
    rmSync(mountPoint, { recursive: true, force: true });
    return undefined;
  }
  after(() => {
    spawnSync("umount", ["-l", mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });
  return mountPoint;
}

const disk = tinyDisk();

test("a full disk during a pull names disk space, not the connection", {
  skip: disk ? false : "cannot mount a tmpfs here",
}, async () => {
  const hub = await startFakeHub({ repos: [onnxRepo("org/Big", { width: 300_000 })] });
  after(() => hub.close());
  const home = disk as string;
  const result = await runCli(["pull", "org/Big"], {
    env: {
      HF_ENDPOINT: hub.url,
      HF_HUB_CACHE: join(home, "hf"),
      HF_TOKEN: "",
      GPUX_HOME: join(home, "gpux"),
    },
  });
  assert.equal(result.code, 3, result.stderr);
  assert.match(result.stderr, /the disk holding .* is full/);
  assert.match(result.stderr, /Free disk space/);
  assert.doesNotMatch(result.stderr, /connection ended|resumes where it stopped/);
  const locks = join(home, "gpux", "locks");
  const leftovers = (existsSync(locks) ? readdirSync(locks) : []).filter((name) => name.includes(".lock."));
  assert.deepEqual(leftovers, [], "no .lock.<pid> file is left behind");
});
