import type { Command } from "commander";
import { searchModels } from "../../app/search-models.js";
import { UserError } from "../../util/errors.js";
import { formatBytes } from "../format-bytes.js";
import { formatTable } from "../format-table.js";
import { runAction } from "../run-action.js";

interface SearchFlags {
  registry?: string[];
  task?: string;
  library?: string;
  onnx?: boolean;
  limit?: string;
  plainHttp?: boolean;
  json?: boolean;
}

async function search(query: string, flags: SearchFlags): Promise<void> {
  const limit = flags.limit === undefined ? 20 : Number(flags.limit);
  if (!Number.isInteger(limit) || limit < 1) {
    throw new UserError(`--limit must be a whole number ≥ 1, got '${flags.limit}'.`, { hint: "Default 20." });
  }
  const { hits, notes } = await searchModels(query, {
    registries: flags.registry,
    task: flags.task,
    library: flags.library,
    onnxOnly: flags.onnx,
    limit,
    plainHttp: flags.plainHttp,
  });
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({
        models: hits.map((h) => ({
          source: h.source,
          reference: h.reference,
          task: h.task ?? null,
          onnx: h.onnx ?? null,
          size_bytes: h.sizeBytes ?? null,
          downloads: h.downloads ?? null,
          likes: h.likes ?? null,
        })),
        notes,
      })}\n`,
    );
    return;
  }
  const onnx = (value: boolean | undefined) =>
    value === undefined ? "?" : value ? "ready" : "needs conversion";
  const rows = hits.map((h) => [
    h.source,
    h.reference,
    h.task ?? "-",
    onnx(h.onnx),
    h.sizeBytes === undefined ? "-" : formatBytes(h.sizeBytes),
    h.downloads === undefined ? "-" : String(h.downloads),
    h.likes === undefined ? "-" : String(h.likes),
  ]);
  process.stdout.write(
    hits.length > 0
      ? `${formatTable(["source", "reference", "task", "onnx", "size", "downloads", "likes"], rows)}\n`
      : `no models match '${query}'\n`,
  );
  for (const note of notes) process.stderr.write(`note: ${note}\n`);
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerSearchCommand(program: Command): void {
  program
    .command("search")
    .description("Search the Hugging Face Hub and OCI registries for models, in one table")
    .argument("<query>", "words to look for in model names")
    .option(
      "-r, --registry <name>",
      "huggingface (hf) or an OCI host[:port] (repeatable; default: the Hub and GPUX_OCI_REGISTRIES)",
      collect,
    )
    .option("--task <task>", "only models of this task (pipeline tag)")
    .option("--library <name>", "Hub: only models of this library (transformers, onnx …)")
    .option("--onnx", "only models that ship ONNX")
    .option("--limit <n>", "at most this many results (default: 20)")
    .option("--plain-http", "speak HTTP, not HTTPS, to OCI registries that are not on loopback")
    .option("--json", "print {models: [...], notes: [...]}")
    .action(runAction(search));
}
