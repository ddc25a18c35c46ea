import type { Command } from "commander";
import type { ConvertOptions } from "../convert/converter.js";
import { parseExportTask } from "../convert/detect-task.js";
import { UserError } from "../util/errors.js";

/** The conversion flags as commander hands them over (strings), shared by `gpux convert` and `gpux pull`. */
export interface ConvertFlags {
  task?: string;
  opset?: string;
  atol?: string;
  optimize?: boolean;
}

/** Add --task, --opset, --atol and --optimize to a command; `prefix` says when they apply (for --help). */
export function addConvertFlags(command: Command, prefix = ""): Command {
  return command
    .option(
      "--task <task>",
      `${prefix}task head to export (default: pipeline_tag, then config.json architectures)`,
    )
    .option("--opset <n>", `${prefix}ONNX opset (default: chosen per model family)`)
    .option("--atol <x>", `${prefix}largest accepted difference from the source framework (default: 1e-4)`)
    .option("--optimize", `${prefix}also save ONNX Runtime's optimised graph (validated again)`);
}

function parseOpset(value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new UserError(`--opset must be a positive integer, got '${value}'.`, {
      hint: "Pass an ONNX opset such as 17, or leave it out to use the one chosen for the model family.",
    });
  }
  return n;
}

function parseAtol(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) {
    throw new UserError(`--atol must be a non-negative number, got '${value}'.`, {
      hint: "Pass a tolerance such as 1e-4 (the default), or leave it out.",
    });
  }
  return n;
}

/**
 * The flags checked and turned into converter options, before anything is fetched or written. Task aliases
 * (`ner`, `sentiment-analysis` …) become the export task they stand for, so equal options key one store entry.
 */
export function parseConvertFlags(flags: ConvertFlags): Omit<ConvertOptions, "progress" | "variant"> {
  return {
    task: flags.task === undefined ? undefined : parseExportTask(flags.task),
    opset: flags.opset === undefined ? undefined : parseOpset(flags.opset),
    atol: flags.atol === undefined ? undefined : parseAtol(flags.atol),
    optimize: flags.optimize,
  };
}
