import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
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

/**
 * A process that writes `lockText` (a JavaScript expression, evaluated there: its own pid, say) into the lock,
 * then takes the lock within `timeoutMs`: exit 0 when it did.
 */
function takesOver(lock: string, lockText: string, timeoutMs: number): Promise<number | null> {
  const script = `
    import { writeFileSync } from "node:fs";
    const { acquireLock } = await import(${JSON.stringify(lockModule)});
    writeFileSync(${JSON.stringify(lock)}, ${lockText});
    const release = await acquireLock(${JSON.stringify(lock)}, { timeoutMs: ${timeoutMs} });
    await release();
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: "inherit" });
    child.on("error", reject);
    child.on("exit", resolve);
  });
}

test("a lock naming our own pid (pid 1 in a container, after a killed pull) is not waited for", async () => {
  const dir = tempDir();
  const lock = join(dir, "model.lock");
  // the format gpux wrote before (the pid alone), and the current one with another start time
  assert.equal(await takesOver(lock, "String(process.pid)", 3000), 0);
  const earlier = `JSON.stringify({ pid: process.pid, host: ${JSON.stringify(hostname())}, boot: ${JSON.stringify(bootId())}, start: "1" })`;
  assert.equal(await takesOver(lock, earlier, 3000), 0);
  assert.ok(!existsSync(lock));
});

test("a live pid that started after the lock was written (a reused pid) does not hold it", async () => {
  const dir = tempDir();
  const lock = join(dir, "model.lock");
  const logFile = join(dir, "log");
  writeFileSync(logFile, "");
  // this test's own process is alive, but it did not start at tick 1
  writeFileSync(lock, JSON.stringify({ pid: process.pid, host: hostname(), boot: bootId(), start: "1" }));
  assert.equal(await contender(lock, logFile), 0);
  assert.equal(readFileSync(logFile, "utf8"), "enter\nexit\n");
});

test("a lock from another machine or pid namespace is judged by its heartbeat", async () => {
  const dir = tempDir();
  const lock = join(dir, "model.lock");
  const elsewhere = JSON.stringify({ pid: process.pid, host: "another-container", boot: "x", start: "1" });
  writeFileSync(lock, elsewhere);
  // fresh: its holder may be alive, so it is waited for (here until the timeout)
  const waited = spawn(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `const { acquireLock } = await import(${JSON.stringify(lockModule)});
       await acquireLock(${JSON.stringify(lock)}, { timeoutMs: 500 }).then(() => process.exit(0), () => process.exit(7));`,
    ],
    { stdio: "inherit" },
  );
  assert.equal(await new Promise((resolve) => waited.on("exit", resolve)), 7);
  // not touched for minutes: its holder is gone
  const old = new Date(Date.now() - 5 * 60_000);
  utimesSync(lock, old, old);
  const logFile = join(dir, "log");
  writeFileSync(logFile, "");
  assert.equal(await contender(lock, logFile), 0);
  assert.equal(readFileSync(logFile, "utf8"), "enter\nexit\n");
});

function bootId(): string {
  return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
}
