import { readFileSync } from "node:fs";

/**
 * Telling a live process from a dead one whose pid was reused: a pid alone cannot (in a container gpux is
 * pid 1 every time), so records of a process (a pull lock, a running server) keep its start time too.
 */

/** Fields 3… of /proc/<pid>/stat (state first), where /proc exists. */
function procStat(pid: number): string[] | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // the command name (field 2) may hold spaces and parentheses: count fields after its closing one
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/** When the process started, in clock ticks since boot (field 22 of /proc/<pid>/stat), where /proc exists. */
export function processStartTime(pid: number): string | undefined {
  return procStat(pid)?.[19];
}

/** True while a process with this pid exists (one of another user's counts: EPERM). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * True while the process that recorded `pid` (and, where known, its start time) still runs. A zombie (exited,
 * not yet reaped by its parent) has stopped running.
 */
export function processAlive(pid: number, start: string | undefined): boolean {
  if (!pidAlive(pid)) return false;
  const stat = procStat(pid);
  if (stat?.[0] === "Z") return false;
  return start === undefined || stat === undefined || stat[19] === start;
}
