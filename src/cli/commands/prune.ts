import type { Command } from "commander";
import { pruneStore } from "../../app/prune-store.js";
import { formatBytes } from "../format-bytes.js";
import { runAction } from "../run-action.js";

interface PruneFlags {
  dryRun?: boolean;
  json?: boolean;
  cacheDir?: string;
}

async function prune(flags: PruneFlags): Promise<void> {
  const result = await pruneStore(flags);
  const dryRun = Boolean(flags.dryRun);
  if (flags.json) {
    const summary = {
      dry_run: dryRun,
      broken_entries: result.brokenEntries.map(({ entry, bytes }) => ({
        name: entry.manifest.name,
        commit: entry.manifest.commit,
        path: entry.dir,
        bytes,
      })),
      cache_files: result.cacheFiles,
      freed_bytes: result.freedBytes,
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return;
  }
  const verb = dryRun ? "would remove" : "removed";
  const lines = [
    ...result.brokenEntries.map(
      ({ entry: { manifest: m } }) => `${verb} broken entry ${m.name} (${m.commit.slice(0, 12)})`,
    ),
    ...result.cacheFiles.map((file) => `${verb} ${file.path} (${formatBytes(file.bytes)})`),
  ];
  const total = `${dryRun ? "would free" : "freed"} ${formatBytes(result.freedBytes)}`;
  process.stdout.write(`${[...lines, lines.length === 0 ? "nothing to prune" : total].join("\n")}\n`);
}

export function registerPruneCommand(program: Command): void {
  program
    .command("prune")
    .description("Remove broken store entries and cached files no entry uses (asks nothing)")
    .option("--dry-run", "print what would be removed; remove nothing")
    .option(
      "--cache-dir <dir>",
      "Hugging Face cache folder (default: HF_HUB_CACHE or ~/.cache/huggingface/hub)",
    )
    .option("--json", "machine-readable output")
    .action(runAction(prune));
}
