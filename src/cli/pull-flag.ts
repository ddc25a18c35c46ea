import { type Command, Option } from "commander";
import { type PullPolicy, pullIfMissing, pullPolicies } from "../app/pull-if-missing.js";
import { setInterruptMessage, withExitCleanup } from "../util/process-exit.js";
import { createProgressRenderer } from "./progress-renderer.js";

/** `--pull missing|always|never` on a command that takes model references (run, serve). */
export function addPullFlag(command: Command): Command {
  return command.addOption(
    new Option(
      "--pull <when>",
      "pull a registry reference first: missing (not in the store), always (ask the registry), never",
    )
      .choices(pullPolicies)
      .default("missing"),
  );
}

/**
 * Pull each reference the policy asks for before the command resolves it, with the progress on stderr (bars
 * on a terminal, lines otherwise) and a `pulled …` line, so stdout carries the command's own answer only.
 */
export async function pullFirst(refs: readonly (string | undefined)[], policy: PullPolicy): Promise<void> {
  for (const ref of refs) {
    const progress = createProgressRenderer({});
    setInterruptMessage("interrupted; run the same command to resume the pull");
    let result: Awaited<ReturnType<typeof pullIfMissing>>;
    try {
      result = await withExitCleanup(
        () => progress.stop(),
        () => pullIfMissing(ref, { policy, progress }),
      );
    } finally {
      progress.stop();
      setInterruptMessage("interrupted");
    }
    if (result && !result.cached) {
      const { remote } = result;
      process.stderr.write(`pulled ${remote.repoId}@${remote.revision} (${remote.commit.slice(0, 12)})\n`);
    }
  }
}
