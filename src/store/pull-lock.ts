import { mkdir, open, readFile, rm } from "node:fs/promises";
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
    try {
      const handle = await open(path, "wx");
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
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
