import { statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import type { Command } from "commander";
import type { ConversionReport, ValidationFigures } from "../../convert/converter.js";
import { snapshotFromFolder } from "../../convert/local-snapshot.js";
import { selectConverter } from "../../convert/select-converter.js";
import { NotFoundError, UserError } from "../../util/errors.js";
import { progressLines } from "../progress-lines.js";
import { runAction } from "../run-action.js";

interface ConvertCommandOptions {
  task?: string;
  opset?: string;
  atol?: string;
  optimize?: boolean;
  output?: string;
  json?: boolean;
}

function parseNumber(value: string | undefined, flag: string, integer: boolean): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
    throw new UserError(
      `${flag} must be a${integer ? "n integer" : " non-negative number"}, got '${value}'.`,
    );
  }
  return n;
}

function figuresLine(label: string, figures: ValidationFigures): string {
  const diffs = Object.entries(figures.maxAbsDiff)
    .map(([name, diff]) => `${name} ${diff === null ? "NaN" : diff.toExponential(2)}`)
    .join(", ");
  return `${label} (atol ${figures.atol}, inputs ${figures.cases.join(" ")}): max abs diff ${diffs}`;
}

function printReport(source: string, onnxPath: string, report: ConversionReport): void {
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
  lines.push(`wrote ${shown}`, `run it: gpux run ${shown} --input '{…}'`);
  process.stdout.write(`${lines.join("\n")}\n`);
}

async function convert(source: string, options: ConvertCommandOptions): Promise<void> {
  const dir = resolve(source);
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new NotFoundError(`'${source}' is not a model folder.`, {
      hint: "Pass a folder holding config.json and the weights (a transformers checkpoint).",
    });
  }
  const snapshot = await snapshotFromFolder(dir);
  const outDir = resolve(options.output ?? join(dir, ".gpux", "onnx"));
  const converter = selectConverter(snapshot);
  const result = await converter.convert(snapshot, outDir, {
    task: options.task,
    opset: parseNumber(options.opset, "--opset", true),
    atol: parseNumber(options.atol, "--atol", false),
    optimize: options.optimize,
    progress: options.json ? undefined : progressLines("convert"),
  });
  if (options.json)
    process.stdout.write(`${JSON.stringify({ onnx: result.onnxPath, report: result.report })}\n`);
  else printReport(source, result.onnxPath, result.report);
}

export function registerConvertCommand(program: Command): void {
  program
    .command("convert")
    .description("Convert a PyTorch or TensorFlow checkpoint to ONNX and check it computes the same thing")
    .argument("<source>", "checkpoint folder (config.json + weights)")
    .option("--task <task>", "task head to export (default: pipeline_tag, then config.json architectures)")
    .option("--opset <n>", "ONNX opset (default: chosen per model family)")
    .option("--atol <x>", "largest accepted difference from the source framework", "0.0001")
    .option("--optimize", "also save ONNX Runtime's optimised graph (validated again)")
    .option("-o, --output <dir>", "where to write model.onnx (default: <source>/.gpux/onnx)")
    .option("--json", "machine-readable output (see docs/reference/cli.md)")
    .action(runAction(convert));
}
