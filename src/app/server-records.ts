import { randomBytes } from "node:crypto";
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { gpuxHome } from "../store/gpux-home.js";
import { NotFoundError, UserError } from "../util/errors.js";
import { writeFileAtomic } from "../util/fs-atomic.js";
import { onExit } from "../util/process-exit.js";
import { processAlive, processStartTime } from "../util/process-identity.js";

/**
 * The servers `gpux serve` runs on this machine, for `gpux ps`, `stop` and `logs`: no daemon, one small JSON
 * record per server under `$GPUX_HOME/servers/<id>.json`, written by the server once it listens and removed
 * when it exits; a detached server's output goes to `<id>.log` beside it. A record whose process is gone (it
 * was killed with SIGKILL, or the machine rebooted) is dropped, with its log, by the next reader.
 */
export interface ServerRecord {
  /** 12 hex digits; commands take any unique prefix, as Docker's take container ids. */
  id: string;
  pid: number;
  /** The process's start time, so a reused pid is not taken for this server (util/process-identity.ts). */
  start?: string;
  url: string;
  models: string[];
  startedAt: string;
  /** Where a detached server's output goes; undefined for one in the foreground (its terminal has it). */
  log?: string;
  /** How long the server drains requests on SIGTERM before it cuts them. */
  shutdownTimeoutMs: number;
}

const serversDir = (home: string) => join(home, "servers");
const recordPath = (home: string, id: string) => join(serversDir(home), `${id}.json`);

/** A fresh server id. */
export const newServerId = () => randomBytes(6).toString("hex");

/** Where a detached server with this id writes its output. */
export const serverLogPath = (id: string, home = gpuxHome()) => join(serversDir(home), `${id}.log`);

/** True while the server's process runs. */
export const serverRunning = (record: ServerRecord) => processAlive(record.pid, record.start);

/**
 * Record this process as a listening server; the record goes when the returned function is called or the
 * process is stopped by a signal.
 */
export async function recordServer(
  server: Omit<ServerRecord, "pid" | "start" | "startedAt">,
  home = gpuxHome(),
): Promise<() => Promise<void>> {
  const record: ServerRecord = {
    ...server,
    pid: process.pid,
    start: processStartTime(process.pid),
    startedAt: new Date().toISOString(),
  };
  await writeFileAtomic(recordPath(home, record.id), `${JSON.stringify(record, null, 2)}\n`);
  const remove = async () => {
    unregister();
    await rm(recordPath(home, record.id), { force: true });
  };
  const unregister = onExit(remove);
  return remove;
}

/** The record of server `id`, undefined when there is none (or it is not a record). */
export async function readServerRecord(id: string, home = gpuxHome()): Promise<ServerRecord | undefined> {
  try {
    const record = JSON.parse(await readFile(recordPath(home, id), "utf8")) as ServerRecord;
    return record.id === id && Number.isInteger(record.pid) ? record : undefined;
  } catch {
    return undefined;
  }
}

/** Drop a server's record and its log (it has exited, or was killed). */
export async function forgetServer(record: ServerRecord, home = gpuxHome()): Promise<void> {
  await rm(recordPath(home, record.id), { force: true });
  if (record.log) await rm(record.log, { force: true });
}

/** The servers running now, oldest first; records of processes that are gone are dropped on the way. */
export async function listServers(home = gpuxHome()): Promise<ServerRecord[]> {
  const names = await readdir(serversDir(home)).catch(() => [] as string[]);
  const running: ServerRecord[] = [];
  for (const name of names.filter((n) => n.endsWith(".json"))) {
    const record = await readServerRecord(name.slice(0, -".json".length), home);
    if (!record) continue;
    if (serverRunning(record)) running.push(record);
    else await forgetServer(record, home);
  }
  return running.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
}

/** The servers `query` names: `all`, or the one whose id starts with it (a unique prefix). */
export async function findServers(query: string, home = gpuxHome()): Promise<ServerRecord[]> {
  const servers = await listServers(home);
  if (query === "all") return servers;
  const matching = servers.filter((s) => s.id.startsWith(query.toLowerCase()));
  if (matching.length === 1) return matching;
  if (matching.length > 1) {
    throw new UserError(`'${query}' is the start of ${matching.length} server ids.`, {
      hint: `Give more of the id: ${matching.map((s) => s.id).join(", ")}.`,
    });
  }
  throw new NotFoundError(`No running gpux server has the id '${query}'.`, {
    hint:
      servers.length > 0
        ? `\`gpux ps\` lists the running ones (${servers.map((s) => s.id).join(", ")}).`
        : "No gpux server is running; `gpux serve -d MODEL` starts one in the background.",
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `gpux stop`: SIGTERM, so the server finishes the requests in flight (its own shutdown timeout), then SIGKILL
 * if it still runs after `deadlineMs`. Resolves once it has exited and its record is gone.
 */
export async function stopServer(
  record: ServerRecord,
  options: { deadlineMs: number; home?: string },
): Promise<"stopped" | "killed"> {
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(record.pid, name);
    } catch {
      // it exited in between: nothing to signal
    }
  };
  signal("SIGTERM");
  const deadline = Date.now() + options.deadlineMs;
  let outcome: "stopped" | "killed" = "stopped";
  while (serverRunning(record)) {
    if (Date.now() > deadline && outcome === "stopped") {
      signal("SIGKILL");
      outcome = "killed";
    }
    await sleep(50);
  }
  await forgetServer(record, options.home);
  return outcome;
}

/** The last `lines` lines of `text` (all of it when `lines` is undefined). */
export function lastLines(text: string, lines?: number): string {
  if (lines === undefined) return text;
  const all = text.split("\n");
  const last = all.at(-1) === "" ? all.slice(0, -1) : all;
  return lines === 0 ? "" : `${last.slice(-lines).join("\n")}\n`;
}

/** The last `lines` lines of a server's log. */
export async function serverLogTail(path: string, lines: number): Promise<string> {
  return lastLines(await readFile(path, "utf8").catch(() => ""), lines);
}
