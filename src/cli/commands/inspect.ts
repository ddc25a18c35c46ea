import type { Command } from "commander";
import { resolveModelRef } from "../../app/resolve.js";
import { describeModel, type ModelDescription } from "../../engine/describe-model.js";
import { Model } from "../../engine/model.js";
import { formatShape } from "../../onnx/tensor-spec.js";
import { listProviders } from "../../runtime/providers.js";
import { describePulled } from "../../store/describe-pulled.js";
import { log } from "../../util/log.js";
import { formatPulled } from "../format-pulled.js";
import { formatTable } from "../format-table.js";
import { runAction } from "../run-action.js";

interface InspectOptions {
  model?: string;
  config?: string;
  provider?: string;
  json?: boolean;
}

function printProviders(json: boolean): void {
  const providers = listProviders();
  if (json) {
    process.stdout.write(`${JSON.stringify({ providers })}\n`);
    return;
  }
  const rows = providers.map((p) => [p.name, p.available ? "yes" : "no", p.reason]);
  process.stdout.write(`${formatTable(["provider", "available", "why"], rows)}\n`);
  process.stdout.write(
    "\n`auto` tries the available ones in this order and falls back when a session fails.\n",
  );
}

function printDescription(d: ModelDescription): void {
  const kb = d.size_bytes / 1024;
  const size = kb > 1024 ? `${(kb / 1024).toFixed(1)} MB` : `${kb.toFixed(1)} KB`;
  const lines = [
    `name:       ${d.name} (version ${d.version})`,
    ...(d.description ? [`about:      ${d.description}`] : []),
    `task:       ${d.task}`,
    `model:      ${d.model_path} (${size}${d.model_version ? `, model version ${d.model_version}` : ""})`,
    `config:     ${d.config_path}`,
    `provider:   ${d.provider} (${d.provider_attempts.at(-1)?.reason ?? "chosen"})`,
    `producer:   ${[d.onnx.producer, d.onnx.producer_version].filter(Boolean).join(" ") || "unknown"}`,
    `opsets:     ${Object.entries(d.onnx.opsets)
      .map(([domain, v]) => `${domain || "ai.onnx"} ${v}`)
      .join(", ")}`,
    "",
    "inputs:",
    formatTable(
      ["  name", "dtype", "shape", "description"],
      d.inputs.map((s) => [`  ${s.name}`, s.dtype, formatShape(s.shape), s.description ?? ""]),
    ),
    "",
    "outputs:",
    formatTable(
      ["  name", "dtype", "shape", "labels"],
      d.outputs.map((s) => [`  ${s.name}`, s.dtype, formatShape(s.shape), s.labels?.join(", ") ?? ""]),
    ),
  ];
  const meta = Object.entries(d.onnx.metadata);
  if (meta.length > 0) lines.push("", "onnx metadata:", ...meta.map(([k, v]) => `  ${k}: ${v}`));
  const own = Object.entries(d.metadata);
  if (own.length > 0) {
    lines.push("", "gpux.yml metadata:", ...own.map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`));
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

async function inspect(ref: string | undefined, options: InspectOptions): Promise<void> {
  const target = options.model ?? ref;
  if (target === undefined && options.config === undefined) {
    printProviders(options.json ?? false);
    return;
  }
  const loaded = await resolveModelRef(target, { configPath: options.config });
  for (const warning of loaded.warnings) log.warn(warning);
  const model = await Model.load(loaded, { provider: options.provider });
  try {
    const description = await describeModel(model);
    const pulled = await describePulled(loaded.dir);
    if (options.json)
      process.stdout.write(`${JSON.stringify(pulled ? { ...description, pulled } : description)}\n`);
    else {
      printDescription(description);
      if (pulled) process.stdout.write(formatPulled(pulled));
    }
  } finally {
    await model.dispose();
  }
}

export function registerInspectCommand(program: Command): void {
  program
    .command("inspect")
    .description("Show a model's inputs, outputs and metadata; with no model, the execution providers here")
    .argument("[model]", "model: .onnx file, folder with gpux.yml, or a pulled name")
    .option("-m, --model <path>", "inspect this .onnx file")
    .option("-c, --config <path>", "gpux.yml to use")
    .option("-p, --provider <name>", "execution provider to open the model with")
    .option("--json", "machine-readable output (see docs/reference/cli.md)")
    .option("--json-output", "same as --json (earlier gpux's name)")
    .action(
      runAction(async (ref: string | undefined, options: InspectOptions & { jsonOutput?: boolean }) =>
        inspect(ref, { ...options, json: options.json || options.jsonOutput }),
      ),
    );
}
