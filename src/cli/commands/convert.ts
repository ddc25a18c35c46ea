import { statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import type { Command } from "commander";
import { findStoreEntries } from "../../app/find-in-store.js";
import { pullModel } from "../../app/pull-model.js";
import { defaultConversionDir } from "../../convert/conversion-cache.js";
import type {
  ConversionReport,
  ConvertOptions,
  ConvertResult,
  ValidationFigures,
} from "../../convert/converter.js";
import { snapshotFromFolder } from "../../convert/local-snapshot.js";
import { selectConverter } from "../../convert/select-converter.js";
import { NotFoundError, UserError } from "../../util/errors.js";
import { addConvertFlags, type ConvertFlags, parseConvertFlags } from "../convert-flags.js";
import { progressLines } from "../progress-lines.js";
import { runAction } from "../run-action.js";
import { runSuggestion } from "../run-suggestion.js";
import { snakeCaseKeys } from "../snake-case-keys.js";

interface ConvertCommandOptions extends ConvertFlags {
  output?: string;
  json?: boolean;
}

function figuresLine(label: string, figures: ValidationFigures): string {
  const diffs = Object.entries(figures.maxAbsDiff)
    .map(([name, diff]) => `${name} ${diff === null ? "NaN" : diff.toExponential(2)}`)
    .join(", ");
  const greedy = figures.greedy
    ? `; greedy tokens identical to transformers' generate() over ${figures.greedy.steps} steps`
    : "";
  return `${label} (atol ${figures.atol}, inputs ${figures.cases.join(" ")}): max abs diff ${diffs}${greedy}`;
}

/**
 * `runTarget`: what `gpux run` takes to run the result: the source folder when the model went to its
 * `.gpux/onnx/` (run then finds it with the folder's tokenizer and the exported task), else the model file.
 */
function printReport(source: string, onnxPath: string, report: ConversionReport, runTarget?: string): void {
  const lines = [
    report.cached
      ? `${source}: reused the earlier conversion (same source and options)`
      : `converted ${source} with ${report.converter}` +
        (report.task ? `: ${report.task} (from ${report.taskSource}), opset ${report.opset}` : "") +
        ` in ${(report.durationMs / 1000).toFixed(1)} s`,
  ];
  if (report.inputs) lines.push(`inputs ${report.inputs.join(", ")} → outputs ${report.outputs?.join(", ")}`);
  if (report.validation) lines.push(figuresLine("validated", report.validation));
  if (report.optimizedValidation) lines.push(figuresLine("optimised, validated", report.optimizedValidation));
  const fromHere = relative(process.cwd(), onnxPath);
  const shown = fromHere && !fromHere.startsWith("..") ? fromHere : onnxPath;
  lines.push(`wrote ${shown}`, runSuggestion(runTarget ?? shown, runTarget ? report.task : undefined));
  process.stdout.write(`${lines.join("\n")}\n`);
}

/** A pulled model: converted again into a store entry keyed by its commit and these options (offline). */
async function convertPulled(ref: string, settings: ConvertOptions): Promise<ConvertResult> {
  const [entry] = await findStoreEntries(ref);
  if (!entry) {
    throw new NotFoundError(`'${ref}' is neither a folder nor a pulled model.`, {
      hint: `Pass a checkpoint folder, or run \`gpux pull ${ref}\` first.`,
    });
  }
  const { manifest } = entry;
  const { progress, ...convert } = settings;
  const pulled = await pullModel(`${manifest.registry}:${manifest.repoId}@${manifest.commit}`, {
    offline: true,
    convert,
    progress,
  });
  const stored = pulled.entry?.manifest;
  if (!pulled.entry || !stored) throw new NotFoundError(`'${ref}' could not be read from the store.`);
  const report = pulled.cached ? { ...stored.conversion, cached: true } : stored.conversion;
  return { onnxPath: join(pulled.entry.dir, stored.model), report };
}

async function convert(source: string, options: ConvertCommandOptions): Promise<void> {
  const settings: ConvertOptions = {
    ...parseConvertFlags(options),
    progress: options.json ? undefined : progressLines("convert"),
  };
  const dir = resolve(source);
  let result: ConvertResult;
  let runTarget: string | undefined;
  if (statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
    if (options.output === undefined) runTarget = source;
    const snapshot = await snapshotFromFolder(dir);
    const outDir = resolve(options.output ?? defaultConversionDir(dir));
    result = await selectConverter(snapshot).convert(snapshot, outDir, settings);
  } else {
    if (options.output) {
      throw new UserError("--output applies to checkpoint folders; a pulled model converts into the store.", {
        hint: `Leave out --output; \`gpux inspect ${source}\` shows where the converted model is.`,
      });
    }
    result = await convertPulled(source, settings);
  }
  if (options.json)
    process.stdout.write(
      `${JSON.stringify({ onnx: result.onnxPath, report: snakeCaseKeys(result.report, ["max_abs_diff", "tools"]) })}\n`,
    );
  else printReport(source, result.onnxPath, result.report, runTarget);
}

export function registerConvertCommand(program: Command): void {
  const command = program
    .command("convert")
    .description("Convert a PyTorch or TensorFlow checkpoint to ONNX and check it computes the same thing")
    .argument("<source>", "checkpoint folder (config.json + weights), or a pulled model (org/name)");
  addConvertFlags(command)
    .option("-o, --output <dir>", "folder sources: where to write model.onnx (default: <source>/.gpux/onnx)")
    .option("--json", "machine-readable output (see docs/reference/cli.md)")
    .action(runAction(convert));
}
