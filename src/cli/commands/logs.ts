import { open, readFile } from "node:fs/promises";
import type { Command } from "commander";
import { findServers, lastLines, serverRunning } from "../../app/server-records.js";
import { UserError } from "../../util/errors.js";
import { numberOption } from "../number-option.js";
import { runAction } from "../run-action.js";

/** How often `logs -f` looks for new output (fs.watch misses appends on some file systems). */
const followPollMs = 200;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Print what the log gains after `offset` until the server exits. */
async function follow(path: string, offset: number, running: () => boolean): Promise<void> {
  const file = await open(path, "r");
  try {
    let at = offset;
    for (;;) {
      const alive = running();
      // the open file, not the path: `gpux stop` removes the log once the server has exited
      const { size } = await file.stat();
      if (size > at) {
        const buffer = Buffer.alloc(size - at);
        await file.read(buffer, 0, buffer.length, at);
        process.stdout.write(buffer);
        at = size;
      }
      // read once more after the exit: the server's last lines ("stopped") come just before it
      if (!alive) return;
      await sleep(followPollMs);
    }
  } finally {
    await file.close();
  }
}

async function logs(query: string, flags: { follow?: boolean; tail?: number }): Promise<void> {
  const [server] = await findServers(query);
  if (!server) return;
  if (server.log === undefined) {
    throw new UserError(`Server ${server.id} runs in the foreground: its output is on its own terminal.`, {
      hint: "`gpux serve -d` starts a server whose output `gpux logs` can show.",
    });
  }
  const content = await readFile(server.log).catch(() => Buffer.alloc(0));
  process.stdout.write(lastLines(content.toString("utf8"), flags.tail));
  if (flags.follow) await follow(server.log, content.length, () => serverRunning(server));
}

export function registerLogsCommand(program: Command): void {
  program
    .command("logs")
    .description("Show the output of a server started with gpux serve -d")
    .argument("<server>", "server id (any unique prefix, from gpux ps)")
    .option("-f, --follow", "keep printing new output until the server exits")
    .addOption(numberOption("-n, --tail <lines>", "only the last N lines (default: all)", { min: 0 }))
    .action(runAction(logs));
}
