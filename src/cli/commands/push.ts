import type { Command } from "commander";
import { pushModel } from "../../app/push-model.js";
import { formatBytes } from "../format-bytes.js";
import { formatTable } from "../format-table.js";
import { progressLines } from "../progress-lines.js";
import { runAction } from "../run-action.js";

interface PushFlags {
  modelcar?: boolean;
  plainHttp?: boolean;
  json?: boolean;
}

async function push(model: string, ref: string, flags: PushFlags): Promise<void> {
  const started = Date.now();
  const result = await pushModel(model, ref, {
    modelcar: flags.modelcar,
    plainHttp: flags.plainHttp,
    progress: flags.json ? undefined : progressLines("push"),
  });
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({
        event: "result",
        reference: result.reference,
        digest: result.digest,
        media_type: result.mediaType,
        layers: result.layers,
        elapsed_ms: Date.now() - started,
      })}\n`,
    );
    return;
  }
  const rows = result.layers.map((l) => [l.path, formatBytes(l.size), l.outcome, l.digest.slice(0, 19)]);
  process.stdout.write(
    `${formatTable(["layer", "size", "status", "digest"], rows)}\n` +
      `pushed ${result.reference}@${result.digest}\n`,
  );
}

export function registerPushCommand(program: Command): void {
  program
    .command("push")
    .description(
      "Push a pulled model or a model folder to an OCI registry (a ModelPack artifact, or --modelcar)",
    )
    .argument("<model>", "a model in the store (as `gpux ls` names it) or a folder")
    .argument("<ref>", "oci://host[:port]/repo[:tag], or host/repo:tag where the host has a dot or a port")
    .option(
      "--modelcar",
      "push an image whose one layer holds the files under /models (KServe storageUri: oci://)",
    )
    .option("--plain-http", "speak HTTP, not HTTPS, to a registry that is not on loopback")
    .option("--json", "print the result as one JSON object")
    .addHelpText(
      "after",
      "\nCredentials: `gpux login HOST` (Docker's config.json; DOCKER_CONFIG moves it). See docs/guides/registries.md.",
    )
    .action(runAction(push));
}
