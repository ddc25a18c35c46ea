import type { Command } from "commander";
import { listServers } from "../../app/server-records.js";
import { UserError } from "../../util/errors.js";
import { formatTable } from "../format-table.js";
import { runAction } from "../run-action.js";

/** 42 s, 7 m, 3 h, 2 d: how long a server has run, as `docker ps` shows it. */
function formatUptime(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} m`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h`;
  return `${Math.floor(seconds / 86_400)} d`;
}

async function ps(flags: { json?: boolean; quiet?: boolean }): Promise<void> {
  if (flags.quiet && flags.json)
    throw new UserError("--quiet and --json are two different outputs.", { hint: "Pass one of them." });
  const servers = await listServers();
  if (flags.quiet) {
    process.stdout.write(servers.map((s) => `${s.id}\n`).join(""));
    return;
  }
  const now = Date.now();
  if (flags.json) {
    const rows = servers.map((s) => ({
      id: s.id,
      models: s.models,
      url: s.url,
      port: Number(new URL(s.url).port),
      pid: s.pid,
      started_at: s.startedAt,
      uptime_s: Math.floor((now - Date.parse(s.startedAt)) / 1000),
      detached: s.log !== undefined,
      log: s.log ?? null,
    }));
    process.stdout.write(`${JSON.stringify({ servers: rows })}\n`);
    return;
  }
  if (servers.length === 0) {
    process.stdout.write("no gpux server is running: `gpux serve -d MODEL` starts one in the background\n");
    return;
  }
  const rows = servers.map((s) => [
    s.id,
    s.models.join(","),
    s.url,
    String(s.pid),
    formatUptime(now - Date.parse(s.startedAt)),
    s.log !== undefined ? "detached" : "foreground",
  ]);
  process.stdout.write(`${formatTable(["id", "models", "url", "pid", "up", "mode"], rows)}\n`);
}

export function registerPsCommand(program: Command): void {
  program
    .command("ps")
    .description("List the gpux servers running on this machine")
    .option("-q, --quiet", "only the server ids, one a line")
    .option("--json", "machine-readable output")
    .action(runAction(ps));
}
