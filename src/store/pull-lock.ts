import { link, mkdir, open, readFile, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { RuntimeFailure } from "../util/errors.js";
import { log } from "../util/log.js";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Create the lock file holding our pid, atomically: the pid is written to a private file first and hard-linked
 * into place, so no other process ever reads a lock that exists but is still empty (and mistakes it for one
 * left by a crash). Filesystems without hard links fall back to an exclusive create.
 */
async function tryCreate(path: string): Promise<boolean> {
  const own = `${path}.${process.pid}`;
  await writeFile(own, String(process.pid));
  try {
    await link(own, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return false;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "ENOSYS") throw error;
    try {
      const handle = await open(path, "wx");
      await handle.writeFile(String(process.pid));
      await handle.close();
      return true;
    } catch (fallbackError) {
      if ((fallbackError as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw fallbackError;
    }
  } finally {
    await rm(own, { force: true });
  }
}

/**
 * Hold a lock file (created exclusively, holding our pid) while pulling one model, so two pulls of it never
 * write the same files. A lock left by a dead process is taken over; a live holder is waited for.
 * Returns the release function.
 */
export async function acquireLock(
  path: string,
  options: { timeoutMs?: number } = {},
): Promise<() => Promise<void>> {
  const deadline = Date.now() + (options.timeoutMs ?? 30 * 60_000);
  await mkdir(dirname(path), { recursive: true });
  let told = false;
  for (;;) {
    if (await tryCreate(path)) return () => rm(path, { force: true });
    const holder = Number((await readFile(path, "utf8").catch(() => "")).trim());
    if (!Number.isInteger(holder) || holder <= 0 || !alive(holder)) {
      // Written by a process that died (or still being written: give it a moment before taking over).
      await sleep(50);
      const again = Number((await readFile(path, "utf8").catch(() => "")).trim());
      if (again === holder || !again) await rm(path, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new RuntimeFailure(`Another gpux (pid ${holder}) is still pulling this model.`, {
        hint: `Wait for it to finish, or stop it; the lock is ${path}.`,
      });
    }
    if (!told) log.warn(`waiting for another gpux pull of this model (pid ${holder})`);
    told = true;
    await sleep(200);
  }
}
