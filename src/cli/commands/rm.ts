import type { Command } from "commander";
import { removeModel } from "../../app/remove-model.js";
import { formatBytes } from "../format-bytes.js";
import { runAction } from "../run-action.js";

interface RmFlags {
  allRevisions?: boolean;
  purge?: boolean;
  json?: boolean;
}

async function rm(ref: string, flags: RmFlags): Promise<void> {
  const result = await removeModel(ref, flags);
  if (flags.json) {
    const summary = {
      removed: result.removed.map((e) => ({ name: e.manifest.name, commit: e.manifest.commit, path: e.dir })),
      kept: result.kept.map((e) => ({ name: e.manifest.name, commit: e.manifest.commit })),
      freed_bytes: result.freedBytes,
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return;
  }
  for (const entry of result.removed) {
    process.stdout.write(`removed ${entry.manifest.name} (${entry.manifest.commit.slice(0, 12)})\n`);
  }
  if (flags.purge) process.stdout.write(`freed ${formatBytes(result.freedBytes)} of downloaded files\n`);
  if (result.kept.length > 0) {
    process.stdout.write(`kept ${result.kept.length} other revision(s); --all-revisions removes them too\n`);
  }
}

export function registerRmCommand(program: Command): void {
  program
    .command("rm")
    .alias("remove")
    .description("Remove a pulled model from the store")
    .argument("<model>", "name or org/name[@revision] as pulled")
    .option("--all-revisions", "remove every pulled revision of the model")
    .option(
      "--purge",
      "also delete its downloaded files (Hub cache, OCI blobs, URL downloads) nothing else uses",
    )
    .option("--json", "machine-readable output")
    .action(runAction(rm));
}
