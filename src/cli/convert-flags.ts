import type { Command } from "commander";
import { didYouMean } from "../app/did-you-mean.js";
import type { ConvertOptions } from "../convert/converter.js";
import { type ExportTask, parseExportTask } from "../convert/detect-task.js";
import { exportTaskNames } from "../tasks.js";
import { UserError } from "../util/errors.js";
import { defaults } from "../util/settings.js";
import { numberOption } from "./number-option.js";

/** The conversion flags as commander hands them over (strings), shared by `gpux convert` and `gpux pull`. */
export interface ConvertFlags {
  task?: string;
  opset?: number;
  atol?: number;
  optimize?: boolean;
}

/** Add --task, --opset, --atol and --optimize to a command; `prefix` says when they apply (for --help). */
export function addConvertFlags(command: Command, prefix = ""): Command {
  return command
    .option(
      "--task <task>",
      `${prefix}task head to export (default: pipeline_tag, then config.json architectures)`,
    )
    .addOption(
      numberOption("--opset <n>", `${prefix}ONNX opset (default: chosen per model family)`, {
        min: 1,
        hint: "Pass an ONNX opset such as 17, or leave it out to use the one chosen for the model family.",
      }),
    )
    .addOption(
      numberOption(
        "--atol <x>",
        `${prefix}largest accepted difference from the source framework (default: ${defaults.convert.atol})`,
        {
          min: 0,
          integer: false,
          hint: `Pass a tolerance such as ${defaults.convert.atol} (the default), or leave it out.`,
        },
      ),
    )
    .option("--optimize", `${prefix}also save ONNX Runtime's optimised graph (validated again)`);
}

/** --task as the export task it names, with the nearest task name offered when it names none. */
function parseTaskFlag(name: string): ExportTask {
  try {
    return parseExportTask(name);
  } catch (error) {
    const [guess] = didYouMean(name, exportTaskNames);
    if (!(error instanceof UserError) || !guess) throw error;
    throw new UserError(`${error.message} Did you mean '${guess}'?`, { hint: `Pass --task ${guess}.` });
  }
}

/**
 * The flags checked and turned into converter options, before anything is fetched or written. Task aliases
 * (`ner`, `sentiment-analysis` …) become the export task they stand for, so equal options key one store entry.
 */
export function parseConvertFlags(flags: ConvertFlags): Omit<ConvertOptions, "progress" | "variant"> {
  return {
    task: flags.task === undefined ? undefined : parseTaskFlag(flags.task),
    opset: flags.opset,
    atol: flags.atol,
    optimize: flags.optimize,
  };
}
