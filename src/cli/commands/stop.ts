import type { Command } from "commander";
import { findServers, type ServerRecord, stopServer } from "../../app/server-records.js";
import { numberOption } from "../number-option.js";
import { runAction } from "../run-action.js";

/** Beyond a server's own drain (its shutdown timeout), the time it gets to close workers and exit. */
const exitGraceMs = 5000;

async function stop(queries: string[], flags: { timeout?: number }): Promise<void> {
  const servers = new Map<string, ServerRecord>();
  for (const query of queries) for (const server of await findServers(query)) servers.set(server.id, server);
  if (servers.size === 0) process.stderr.write("no gpux server is running\n");
  await Promise.all(
    [...servers.values()].map(async (server) => {
      const deadlineMs =
        flags.timeout !== undefined ? flags.timeout * 1000 : server.shutdownTimeoutMs + exitGraceMs;
      const outcome = await stopServer(server, { deadlineMs });
      process.stdout.write(
        outcome === "stopped"
          ? `stopped ${server.id}\n`
          : `killed ${server.id} (still running ${deadlineMs / 1000} s after SIGTERM)\n`,
      );
    }),
  );
}

export function registerStopCommand(program: Command): void {
  program
    .command("stop")
    .description("Stop gpux servers: SIGTERM (requests in flight finish), SIGKILL after a deadline")
    .argument("<servers...>", "server ids (any unique prefix, from gpux ps), or all")
    .addOption(
      numberOption(
        "-t, --timeout <seconds>",
        `SIGKILL after this long (default: the server's shutdown timeout + ${exitGraceMs / 1000} s)`,
        { min: 0, integer: false },
      ),
    )
    .action(runAction(stop));
}
