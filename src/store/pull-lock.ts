import { readFileSync } from "node:fs";
import { link, mkdir, open, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { RuntimeFailure } from "../util/errors.js";
import { log } from "../util/log.js";
import { onExit } from "../util/process-exit.js";
import { processAlive, processStartTime } from "../util/process-identity.js";

/**
 * Who holds a lock. A pid alone cannot say: pids are reused, and in a container gpux is pid 1 every time, so a
 * lock left by a killed pull names the next pull's own pid. The process's start time (Linux: /proc/<pid>/stat)
 * and the boot id tell a live holder from a dead one on this machine; a holder elsewhere (another container's
 * pid namespace, another host on a shared disk) is judged by its heartbeat, the lock file's age.
 */
interface Holder {
  pid: number;
  host?: string;
  boot?: string;
  start?: string;
}

/** The holder touches its lock this often; a lock not touched for `staleAfterMs` is taken over. */
const heartbeatMs = 10_000;
const staleAfterMs = 6 * heartbeatMs;

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

const bootId = readProc("/proc/sys/kernel/random/boot_id")?.trim();

const self: Holder = {
  pid: process.pid,
  host: hostname(),
  boot: bootId,
  start: processStartTime(process.pid),
};

/** Locks this process holds now, so its own pid in a lock file is told from a dead earlier process's. */
const heldHere = new Set<string>();

function parseHolder(text: string): Holder | undefined {
  const trimmed = text.trim();
  // gpux before 0.3 wrote the pid alone
  if (/^\d+$/.test(trimmed)) return { pid: Number(trimmed) };
  try {
    const holder = JSON.parse(trimmed) as Holder;
    return Number.isInteger(holder.pid) && holder.pid > 0 ? holder : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the process that wrote this lock still runs (and so still holds it). */
async function holderAlive(path: string, holder: Holder): Promise<boolean> {
  const sameMachine = holder.host === undefined || (holder.host === self.host && holder.boot === self.boot);
  if (!sameMachine) {
    const touched = await stat(path).then(
      (info) => info.mtimeMs,
      () => 0,
    );
    return Date.now() - touched < staleAfterMs;
  }
  if (holder.pid === process.pid) return heldHere.has(path);
  return processAlive(holder.pid, holder.start);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Create the lock file naming us, atomically: it is written to a private file first and hard-linked into
 * place, so no other process ever reads a lock that exists but is still empty (and mistakes it for one left by
 * a crash). Filesystems without hard links fall back to an exclusive create.
 */
async function tryCreate(path: string): Promise<boolean> {
  const own = `${path}.${process.pid}`;
  const content = JSON.stringify(self);
  try {
    await writeFile(own, content);
    await link(own, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "ENOSYS") throw error;
    try {
      const handle = await open(path, "wx");
      await handle.writeFile(content);
      await handle.close();
      return true;
    } catch (fallbackError) {
      if ((fallbackError as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw fallbackError;
    }
  } finally {
    // also when writing failed (a full disk): no private file is left beside the lock
    await rm(own, { force: true });
  }
}

/** Hold the lock at `path` from now on: heartbeat, release on exit (a signal included). */
function hold(path: string): () => Promise<void> {
  heldHere.add(path);
  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(path, now, now).catch(() => undefined);
  }, heartbeatMs);
  heartbeat.unref();
  const release = async () => {
    clearInterval(heartbeat);
    unregister();
    heldHere.delete(path);
    await rm(path, { force: true });
  };
  const unregister = onExit(release);
  return release;
}

/**
 * Hold a lock file (created exclusively, naming this process) while pulling one model, so two pulls of it
 * never write the same files. A lock left by a dead process is taken over; a live holder is waited for.
 * Returns the release function; the lock is released on a signal too (util/process-exit.ts).
 */
export async function acquireLock(
  path: string,
  options: {
    timeoutMs?: number;
    /** What the holder does, for the messages; default "pulling this model". */
    doing?: string;
  } = {},
): Promise<() => Promise<void>> {
  const deadline = Date.now() + (options.timeoutMs ?? 30 * 60_000);
  const doing = options.doing ?? "pulling this model";
  await mkdir(dirname(path), { recursive: true });
  let told = false;
  for (;;) {
    if (await tryCreate(path)) return hold(path);
    const text = await readFile(path, "utf8").catch(() => "");
    const holder = parseHolder(text);
    if (!holder || !(await holderAlive(path, holder))) {
      // Written by a process that died (or still being written: give it a moment before taking over).
      await sleep(50);
      const again = await readFile(path, "utf8").catch(() => "");
      if (again === text || !again) await rm(path, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new RuntimeFailure(`Another gpux (pid ${holder.pid}) is still ${doing}.`, {
        hint: `Wait for it to finish, or stop it; the lock is ${path}.`,
      });
    }
    if (!told) log.warn(`waiting for another gpux ${doing} (pid ${holder.pid})`);
    told = true;
    await sleep(200);
  }
}

/**
 * The lock `gpux prune` holds in the locks folder for as long as it removes: every file a pull writes or
 * reuses is one no entry uses until the pull's entry exists, so pulls wait for it (`waitForPrune`).
 */
export const pruneLockName = "prune.lock";

/**
 * The pids of live holders of the pull locks in `dir` (`gpux prune` waits for no pull: it refuses while one
 * runs). Prune takes its own lock first, then calls this; a pull takes its lock first, then waits for prune's:
 * whichever of the two starts second sees the other.
 */
export async function liveLockHolders(dir: string): Promise<number[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const pids: number[] = [];
  for (const name of names.filter((n) => n.endsWith(".lock") && n !== pruneLockName)) {
    const path = join(dir, name);
    const holder = parseHolder(await readFile(path, "utf8").catch(() => ""));
    if (holder && (await holderAlive(path, holder))) pids.push(holder.pid);
  }
  return pids;
}

/** Called by a pull with its own lock held: wait while a live `gpux prune` holds its lock in `dir`. */
export async function waitForPrune(dir: string): Promise<void> {
  const path = join(dir, pruneLockName);
  let told = false;
  for (;;) {
    const holder = parseHolder(await readFile(path, "utf8").catch(() => ""));
    if (!holder || !(await holderAlive(path, holder))) return;
    if (!told) log.warn(`waiting for \`gpux prune\` (pid ${holder.pid}) to finish`);
    told = true;
    await sleep(200);
  }
}
