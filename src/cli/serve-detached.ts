import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { rm } from "node:fs/promises";
import { dirname } from "node:path";
import { newServerId, readServerRecord, serverLogPath, serverLogTail } from "../app/server-records.js";
import { NotFoundError, RuntimeFailure, UserError } from "../util/errors.js";
import { onExit } from "../util/process-exit.js";

/** Lines of a failed server's log shown when it stops before it listens. */
const failureTailLines = 20;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The error a detached server's exit code stands for: the same code for `gpux serve -d` as for `gpux serve`. */
function startFailure(code: number): Error {
  const message = `The server exited (code ${code}) before it listened; the end of its log is above.`;
  const options = { hint: "Fix what its log says and start it again." };
  if (code === 1) return new UserError(message, options);
  if (code === 2) return new NotFoundError(message, options);
  return new RuntimeFailure(message, options);
}

/**
 * `gpux serve -d`: run the same `gpux serve` command line (less -d, and with the models already pulled) as a
 * detached child writing to `$GPUX_HOME/servers/<id>.log`, wait until it has written its record (it listens)
 * or exited, and print its id and URL (stdout: `ID URL`, for `read ID URL < <(gpux serve -d m)`). The child is its own process group, so a closed terminal or Ctrl-C
 * here leaves it running; until it listens, stopping this command stops it too (nothing half-started stays).
 */
export async function serveDetached(args: readonly string[]): Promise<void> {
  const id = newServerId();
  const log = serverLogPath(id);
  mkdirSync(dirname(log), { recursive: true });
  const out = openSync(log, "a");
  const childArgs = [...args.filter((arg) => arg !== "-d" && arg !== "--detach"), "--pull", "never"];
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1] as string, ...childArgs], {
    detached: true,
    stdio: ["ignore", out, out],
    env: { ...process.env, GPUX_SERVER_ID: id },
  });
  closeSync(out);
  let exitCode: number | undefined;
  child.once("exit", (code, signal) => {
    exitCode = code ?? (signal ? 128 : 3);
  });
  const unregister = onExit(() => {
    child.kill("SIGKILL");
  });
  try {
    for (;;) {
      const record = await readServerRecord(id);
      if (record) {
        child.unref();
        process.stdout.write(`${record.id} ${record.url}\n`);
        process.stderr.write(
          `serving ${record.models.join(", ")} in the background: \`gpux logs ${id}\`, \`gpux stop ${id}\`\n`,
        );
        return;
      }
      if (exitCode !== undefined) {
        process.stderr.write(await serverLogTail(log, failureTailLines));
        await rm(log, { force: true });
        throw startFailure(exitCode);
      }
      await sleep(100);
    }
  } finally {
    unregister();
  }
}
