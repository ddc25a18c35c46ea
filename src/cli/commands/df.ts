import type { Command } from "commander";
import { diskUsage } from "../../app/disk-usage.js";
import { formatBytes } from "../format-bytes.js";
import { formatTable } from "../format-table.js";
import { runAction } from "../run-action.js";

async function df(flags: { json?: boolean }): Promise<void> {
  const usage = await diskUsage();
  if (flags.json) {
    const models = usage.entries.map(({ entry: { dir, manifest: m }, bytes, sharedBytes }) => ({
      name: m.name,
      revisions: m.revisions,
      commit: m.commit,
      options: m.options,
      bytes,
      shared_bytes: sharedBytes,
      path: dir,
    }));
    process.stdout.write(`${JSON.stringify({ models, total_bytes: usage.totalBytes })}\n`);
    return;
  }
  const rows = usage.entries.map(({ entry: { manifest: m }, bytes, sharedBytes }) => [
    m.name,
    [m.revisions.join(","), ...Object.entries(m.options).map(([k, v]) => `${k}=${v}`)].join(" "),
    m.commit.slice(0, 12),
    formatBytes(bytes),
    sharedBytes > 0 ? formatBytes(sharedBytes) : "-",
  ]);
  const count = `${usage.entries.length} model entr${usage.entries.length === 1 ? "y" : "ies"}`;
  process.stdout.write(
    `${formatTable(["model", "revision", "commit", "size", "shared"], rows)}\n\n` +
      `total ${formatBytes(usage.totalBytes)} for ${count} (files shared between entries counted once)\n`,
  );
}

export function registerDfCommand(program: Command): void {
  program
    .command("df")
    .description("Show the disk pulled models use (files shared between them counted once)")
    .option("--json", "machine-readable output")
    .action(runAction(df));
}
