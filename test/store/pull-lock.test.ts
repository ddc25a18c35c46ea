import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { repoRoot } from "../helpers/cli.js";
import { tempDir } from "../helpers/temp-dir.js";

const lockModule = join(repoRoot, "dist", "store", "pull-lock.js");

/** A process that takes the lock, logs `enter`, holds it a while, logs `exit` and lets go. */
function contender(lock: string, logFile: string): Promise<number | null> {
  const script = `
    import { appendFileSync } from "node:fs";
    const { acquireLock } = await import(${JSON.stringify(lockModule)});
    const release = await acquireLock(${JSON.stringify(lock)});
    appendFileSync(${JSON.stringify(logFile)}, "enter\\n");
    await new Promise((r) => setTimeout(r, 60));
    appendFileSync(${JSON.stringify(logFile)}, "exit\\n");
    await release();
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: "inherit" });
    child.on("error", reject);
    child.on("exit", resolve);
  });
}

test("six processes racing for one pull lock hold it one at a time", async () => {
  const dir = tempDir();
  const lock = join(dir, "locks", "model.lock");
  const logFile = join(dir, "log");
  writeFileSync(logFile, "");
  const codes = await Promise.all(Array.from({ length: 6 }, () => contender(lock, logFile)));
  assert.deepEqual(codes, [0, 0, 0, 0, 0, 0]);
  const lines = readFileSync(logFile, "utf8").trim().split("\n");
  assert.deepEqual(
    lines,
    Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? "enter" : "exit")),
  );
  assert.ok(!existsSync(lock), "the last holder removes the lock");
});

test("a lock left by a dead process is taken over", async () => {
  const dir = tempDir();
  const lock = join(dir, "model.lock");
  const logFile = join(dir, "log");
  writeFileSync(logFile, "");
  // pid 2^22+1 is above Linux's pid_max default ceiling, so no live process holds it.
  writeFileSync(lock, String(4_194_305));
  assert.equal(await contender(lock, logFile), 0);
  assert.equal(readFileSync(logFile, "utf8"), "enter\nexit\n");
});
