import type { Command } from "commander";
import { type PullOutcome, pullModels } from "../../app/batch/pull-models.js";
import { pullModel } from "../../app/pull-model.js";
import { UserError } from "../../util/errors.js";
import { setInterruptMessage, withExitCleanup } from "../../util/process-exit.js";
import { addConvertFlags, type ConvertFlags, parseConvertFlags } from "../convert-flags.js";
import { formatBytes } from "../format-bytes.js";
import { formatTable } from "../format-table.js";
import { createProgressRenderer } from "../progress-renderer.js";
import { modelProgress, rendererKind } from "../pull-many-progress.js";
import { describeError, runAction } from "../run-action.js";
import { runSuggestion } from "../run-suggestion.js";

interface PullFlags extends ConvertFlags {
  registry?: string;
  revision?: string;
  variant?: string;
  token?: string;
  force?: boolean;
  offline?: boolean;
  include?: string[];
  exclude?: string[];
  dryRun?: boolean;
  json?: boolean;
  cacheDir?: string;
  plainHttp?: boolean;
  name?: string;
  sha256?: string;
}

type PullResult = Awaited<ReturnType<typeof pullModel>>;

/** `--json`'s result object for one model. */
function resultEvent(ref: string, result: PullResult, flags: PullFlags, elapsedMs: number): object {
  const { remote, entry } = result;
  return {
    event: "result",
    ref,
    registry: entry?.manifest.registry,
    repo: remote.repoId,
    revision: remote.revision,
    commit: remote.commit,
    cached: result.cached,
    dry_run: Boolean(flags.dryRun),
    downloaded_bytes: result.downloadedBytes,
    files: result.files.map((f) => ({
      path: f.path,
      size: f.size,
      ...(flags.dryRun ? { cached: Boolean(f.cached) } : {}),
    })),
    path: entry?.dir,
    name: entry?.manifest.name,
    task: entry?.manifest.task,
    format: entry?.manifest.format,
    elapsed_ms: elapsedMs,
  };
}

/** What `--dry-run` prints for one model: the files it would fetch, with sizes. */
function dryRunText(result: PullResult): string {
  const { remote } = result;
  const fetched = result.files.filter((f) => !f.cached);
  const bytes = fetched.reduce((sum, f) => sum + f.size, 0);
  const cachedCount = result.files.length - fetched.length;
  const converts =
    result.format && result.format !== "onnx" && result.format !== "none"
      ? `\nthen convert the ${result.format} checkpoint to ONNX (Python: see gpux doctor)\n`
      : "";
  return (
    `${remote.repoId}@${remote.revision} (${remote.commit.slice(0, 12)}): would fetch ${fetched.length} files, ${formatBytes(bytes)}` +
    `${cachedCount > 0 ? ` (${cachedCount} already in the cache)` : ""}\n\n` +
    `${formatTable(
      ["file", "size", ""],
      result.files.map((f) => [f.path, formatBytes(f.size), f.cached ? "cached" : "to fetch"]),
    )}\n${converts}`
  );
}

/** On a terminal, each row cut to its width (a failure's whole message follows on stderr). */
function fitRows(table: string): string {
  const columns = process.stdout.isTTY ? process.stdout.columns || 80 : 0;
  if (columns === 0) return table;
  return table
    .split("\n")
    .map((row) => (row.length < columns ? row : `${row.slice(0, columns - 2)}…`))
    .join("\n");
}

/** An error as `--json` writes it. */
function errorObject(error: unknown): object {
  const { message, hint, exitCode } = describeError(error);
  return { message, hint, exit_code: exitCode };
}

/** "1.2 MB downloaded in 0.84 s", or "already up to date". */
function howPulled(result: PullResult, elapsedMs: number): string {
  return result.cached
    ? "already up to date"
    : `${formatBytes(result.downloadedBytes)} downloaded in ${(elapsedMs / 1000).toFixed(2)} s`;
}

function splitFlags(flags: PullFlags) {
  const { task, opset, atol, optimize, ...pullFlags } = flags;
  return { convert: parseConvertFlags({ task, opset, atol, optimize }), pullFlags };
}

async function pull(refs: string[], flags: PullFlags): Promise<void> {
  if (refs.length > 1) return pullSeveral(refs, flags);
  const ref = refs[0] as string;
  const { convert, pullFlags } = splitFlags(flags);
  const progress = createProgressRenderer({ json: flags.json });
  const started = Date.now();
  // downloads resume from their .incomplete files, and the lock and temp folders go on the way out
  setInterruptMessage("interrupted; run the same command to resume");
  let result: PullResult;
  try {
    // registered first, so it runs last: the bars stop after the converter and files are gone
    result = await withExitCleanup(
      () => progress.stop(),
      () => pullModel(ref, { ...pullFlags, convert, progress }),
    );
  } finally {
    progress.stop();
  }
  const elapsedMs = Date.now() - started;
  const { remote, entry } = result;
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(resultEvent(ref, result, flags, elapsedMs))}\n`);
    return;
  }
  if (flags.dryRun) {
    process.stdout.write(dryRunText(result));
    return;
  }
  const name = entry?.manifest.name ?? remote.ref.repoId;
  process.stdout.write(
    `pulled ${remote.repoId}@${remote.revision} (${remote.commit.slice(0, 12)}): ${howPulled(result, elapsedMs)}\n` +
      `task ${entry?.manifest.task ?? "raw"}, format ${entry?.manifest.format}\n` +
      `${runSuggestion(name, entry?.manifest.task)}\n`,
  );
}

/**
 * `gpux pull A B C`: a few at a time, one display, and a summary; a model that fails does not stop the
 * others. Exit code 0 when every model was pulled, else that of the first failure in the order given.
 */
async function pullSeveral(refs: string[], flags: PullFlags): Promise<void> {
  if (flags.revision) {
    throw new UserError("--revision names one revision, but several models are given.", {
      hint: "Put each model's revision into its reference: org/name@v1.",
    });
  }
  const single = flags.name !== undefined ? "--name" : flags.sha256 !== undefined ? "--sha256" : undefined;
  if (single) {
    throw new UserError(`${single} is about one file or folder, but several models are given.`, {
      hint: `Pull that model on its own with ${single}.`,
    });
  }
  const { convert, pullFlags } = splitFlags(flags);
  const renderer = createProgressRenderer({ json: flags.json });
  const kind = rendererKind(flags);
  setInterruptMessage("interrupted; run the same command to resume");
  let outcomes: PullOutcome[];
  try {
    outcomes = await withExitCleanup(
      () => renderer.stop(),
      () =>
        pullModels(refs, {
          ...pullFlags,
          convert,
          progressFor: (ref) => modelProgress(renderer, kind, ref),
        }),
    );
  } finally {
    renderer.stop();
  }
  const failures = outcomes.filter((o) => !o.ok);
  if (flags.json) {
    for (const o of outcomes) {
      const event = o.ok
        ? { ...resultEvent(o.ref, o.result, flags, o.elapsedMs), model: o.ref }
        : { event: "error", model: o.ref, error: errorObject(o.error) };
      process.stdout.write(`${JSON.stringify(event)}\n`);
    }
    const summary = {
      event: "summary",
      pulled: outcomes.length - failures.length,
      failed: failures.length,
      models: outcomes.map((o) => ({ model: o.ref, ok: o.ok })),
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    if (flags.dryRun) for (const o of outcomes) if (o.ok) process.stdout.write(`${dryRunText(o.result)}\n`);
    const rows = outcomes.map((o) =>
      o.ok
        ? [o.ref, "ok", flags.dryRun ? "dry run" : howPulled(o.result, o.elapsedMs)]
        : [o.ref, "failed", describeError(o.error).message],
    );
    process.stdout.write(
      `${fitRows(formatTable(["model", "status", "details"], rows))}\n\n` +
        `pulled ${outcomes.length - failures.length} of ${outcomes.length} models` +
        `${failures.length > 0 ? `; ${failures.length} failed` : ""}\n`,
    );
    for (const o of failures) {
      const { message, hint } = describeError(o.error);
      process.stderr.write(`error: ${o.ref}: ${message}\nhint: ${hint}\n`);
    }
  }
  const first = failures[0];
  if (first) process.exitCode = describeError(first.error).exitCode;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerPullCommand(program: Command): void {
  const command = program
    .command("pull")
    .description(
      "Download models into the local store: from the Hugging Face Hub, an OCI registry, a URL or a local path",
    )
    .argument(
      "<model...>",
      "org/name, org/name@revision, hf:org/name, a single name such as gpt2, oci://host/repo:tag, " +
        "https://host/model.onnx, or a local .onnx file or folder (./path); several are pulled a few at a time",
    )
    .option("-r, --registry <name>", "registry: huggingface (hf), url, oci")
    .option("--revision <rev>", "branch, tag or commit (default: main)")
    .option("--variant <name>", "ONNX variant: fp32 (default), fp16, q8, q4, …")
    .option("--token <token>", "access token for private or gated models (default: HF_TOKEN)")
    .option("-f, --force", "download and verify again even if cached")
    .option("--offline", "use only the local cache (also HF_HUB_OFFLINE=1)")
    .option("--include <glob>", "also fetch repo files matching this glob (repeatable)", collect)
    .option("--exclude <glob>", "never fetch repo files matching this glob (repeatable)", collect)
    .option("--dry-run", "list the files that would be fetched, with sizes; fetch nothing")
    .option("--plain-http", "OCI: speak HTTP, not HTTPS, to a registry that is not on loopback")
    .option(
      "--name <name>",
      "URL or local pull: the name to store it under (default: the file or folder name)",
    )
    .option(
      "--sha256 <hex>",
      "URL or local .onnx: the sha256 the file must have; a mismatch registers nothing",
    );
  addConvertFlags(command, "when converting: ")
    .option(
      "--cache-dir <dir>",
      "Hugging Face cache folder (default: HF_HUB_CACHE or ~/.cache/huggingface/hub)",
    )
    .option("--json", "NDJSON progress events, then a result object (see docs/reference/cli.md)")
    .addHelpText(
      "after",
      "\nEnvironment: HF_ENDPOINT (a mirror), HF_TOKEN, HF_HUB_OFFLINE, HF_HUB_CACHE, HTTPS_PROXY / HTTP_PROXY /\n" +
        "NO_PROXY (a proxy, tunnelled with CONNECT), NODE_EXTRA_CA_CERTS (a private CA). See docs/guides/registries.md.",
    )
    .action(runAction(pull));
}
