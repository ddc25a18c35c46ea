import type { Command } from "commander";
import { gpuxHome } from "../../store/gpux-home.js";
import { ModelStore } from "../../store/model-store.js";
import { UserError } from "../../util/errors.js";
import { formatBytes } from "../format-bytes.js";
import { formatTable } from "../format-table.js";
import { runAction } from "../run-action.js";

async function ls(flags: { json?: boolean; quiet?: boolean }): Promise<void> {
  if (flags.quiet && flags.json)
    throw new UserError("--quiet and --json are two different outputs.", { hint: "Pass one of them." });
  const store = new ModelStore(gpuxHome());
  const entries = await store.list();
  if (flags.quiet) {
    // what `gpux run NAME` takes, once per model (revisions and variants share the name), for scripts and completion
    const names = [...new Set(entries.map((entry) => entry.manifest.name))];
    process.stdout.write(names.map((name) => `${name}\n`).join(""));
    return;
  }
  // a file removed under the entry (a purged cache blob, a deleted link) makes it unusable: say so
  const intact = await Promise.all(entries.map((entry) => store.isIntact(entry)));
  const status = (i: number) => (intact[i] ? "ok" : "broken");
  if (flags.json) {
    const models = entries.map(({ dir, manifest: m }, i) => ({
      name: m.name,
      registry: m.registry,
      repo: m.repoId,
      revisions: m.revisions,
      commit: m.commit,
      options: m.options,
      format: m.format,
      task: m.task ?? null,
      size_bytes: m.sizeBytes,
      pulled_at: m.pulledAt,
      status: status(i),
      path: dir,
    }));
    process.stdout.write(`${JSON.stringify({ models })}\n`);
    return;
  }
  if (entries.length === 0) {
    process.stdout.write("no models yet: `gpux pull org/name` fetches one\n");
    return;
  }
  const rows = entries.map(({ manifest: m }, i) => [
    m.name,
    [m.revisions.join(","), ...Object.entries(m.options).map(([k, v]) => `${k}=${v}`)].join(" "),
    m.commit.slice(0, 12),
    m.format,
    m.task ?? "raw",
    formatBytes(m.sizeBytes),
    m.pulledAt.slice(0, 19).replace("T", " "),
    status(i),
  ]);
  process.stdout.write(
    `${formatTable(["model", "revision", "commit", "format", "task", "size", "pulled", "status"], rows)}\n`,
  );
  if (intact.includes(false)) {
    process.stdout.write("broken: files of the entry are missing; `gpux pull MODEL` fetches them again\n");
  }
}

export function registerLsCommand(program: Command): void {
  program
    .command("ls")
    .alias("list")
    .description("List pulled models")
    .option("-q, --quiet", "only the model names, one a line")
    .option("--json", "machine-readable output")
    .action(runAction(ls));
}
