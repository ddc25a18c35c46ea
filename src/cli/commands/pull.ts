import type { Command } from "commander";
import { pullModel } from "../../app/pull-model.js";
import { setInterruptMessage, withExitCleanup } from "../../util/process-exit.js";
import { addConvertFlags, type ConvertFlags, parseConvertFlags } from "../convert-flags.js";
import { formatBytes } from "../format-bytes.js";
import { formatTable } from "../format-table.js";
import { createProgressRenderer } from "../progress-renderer.js";
import { runAction } from "../run-action.js";

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

async function pull(ref: string, flags: PullFlags): Promise<void> {
  const { task, opset, atol, optimize, ...pullFlags } = flags;
  const convert = parseConvertFlags({ task, opset, atol, optimize });
  const progress = createProgressRenderer({ json: flags.json });
  const started = Date.now();
  // downloads resume from their .incomplete files, and the lock and temp folders go on the way out
  setInterruptMessage("interrupted; run the same command to resume");
  let result: Awaited<ReturnType<typeof pullModel>>;
  try {
    // registered first, so it runs last: the bars stop after the converter and files are gone
    result = await withExitCleanup(
      () => progress.stop(),
      () => pullModel(ref, { ...pullFlags, convert, progress }),
    );
  } finally {
    progress.stop();
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(2);
  const { remote, entry } = result;
  if (flags.json) {
    const summary = {
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
      elapsed_ms: Date.now() - started,
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return;
  }
  if (flags.dryRun) {
    const fetched = result.files.filter((f) => !f.cached);
    const bytes = fetched.reduce((sum, f) => sum + f.size, 0);
    const cachedCount = result.files.length - fetched.length;
    const converts =
      result.format && result.format !== "onnx" && result.format !== "none"
        ? `\nthen convert the ${result.format} checkpoint to ONNX (Python: see gpux doctor)\n`
        : "";
    process.stdout.write(
      `${remote.repoId}@${remote.revision} (${remote.commit.slice(0, 12)}): would fetch ${fetched.length} files, ${formatBytes(bytes)}` +
        `${cachedCount > 0 ? ` (${cachedCount} already in the cache)` : ""}\n\n` +
        `${formatTable(
          ["file", "size", ""],
          result.files.map((f) => [f.path, formatBytes(f.size), f.cached ? "cached" : "to fetch"]),
        )}\n${converts}`,
    );
    return;
  }
  const name = entry?.manifest.name ?? remote.ref.repoId;
  const how = result.cached
    ? "already up to date"
    : `${formatBytes(result.downloadedBytes)} downloaded in ${seconds} s`;
  process.stdout.write(
    `pulled ${remote.repoId}@${remote.revision} (${remote.commit.slice(0, 12)}): ${how}\n` +
      `task ${entry?.manifest.task ?? "raw"}, format ${entry?.manifest.format}\n` +
      `run it: gpux run ${name} --input '{...}'\n`,
  );
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerPullCommand(program: Command): void {
  const command = program
    .command("pull")
    .description(
      "Download a model into the local store: from the Hugging Face Hub, an OCI registry, a URL or a local path",
    )
    .argument(
      "<model>",
      "org/name, org/name@revision, hf:org/name, a single name such as gpt2, oci://host/repo:tag, " +
        "https://host/model.onnx, or a local .onnx file or folder (./path)",
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
