import type { Command } from "commander";
import { compareModels, requireTwoModels } from "../../app/compare/compare-models.js";
import { type CompareRequest, readDataset } from "../../app/compare/read-dataset.js";
import { renderReportHtml } from "../../app/compare/report-html.js";
import type { ModelSpec } from "../../app/compare/resolve-variant.js";
import { UserError } from "../../util/errors.js";
import { writeFileAtomic } from "../../util/fs-atomic.js";
import { defaults } from "../../util/settings.js";
import { reportTable } from "../compare-table.js";
import { formatTable } from "../format-table.js";
import { numberOption } from "../number-option.js";
import { readRequest } from "../read-request.js";
import { runAction } from "../run-action.js";

interface CompareFlags {
  input?: string;
  text?: string;
  file?: string;
  provider?: string;
  runs?: number;
  warmup?: number;
  maxTokens?: number;
  json?: boolean;
  html?: string;
}

const variantHint =
  "Write each --variant right after its model: `gpux compare org/model --variant fp32 org/model --variant q8 …`.";

/**
 * The models in the order typed, each with the `--variant` written after it. Commander keeps one value per
 * flag, so the tokens after `compare` are walked again: a token is a model unless it is a flag or a flag's value.
 */
function modelSpecs(command: Command, models: readonly string[]): ModelSpec[] {
  // the command line as typed: commander keeps it as the program's `rawArgs`, which its typings leave out
  const raw = (command.parent as (Command & { rawArgs?: string[] }) | null)?.rawArgs ?? [];
  const tokens = raw.slice(raw.indexOf(command.name()) + 1);
  const takesValue = new Set(
    command.options.filter((o) => o.required || o.optional).flatMap((o) => [o.long, o.short]),
  );
  const specs: ModelSpec[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string;
    if (token === "--") {
      specs.push(...tokens.slice(i + 1).map((ref: string) => ({ ref })));
      break;
    }
    const [flag, inline] = token.startsWith("--") ? (token.split(/=(.*)/s) as [string, string?]) : [token];
    if (flag === "--variant") {
      const last = specs[specs.length - 1];
      if (!last) throw new UserError("--variant comes before any model.", { hint: variantHint });
      if (last.variant !== undefined) {
        throw new UserError(`'${last.ref}' has two --variant flags.`, { hint: variantHint });
      }
      last.variant = inline ?? tokens[++i];
    } else if (token.startsWith("-") && token.length > 1) {
      if (takesValue.has(flag) && inline === undefined) i++;
    } else {
      specs.push({ ref: token });
    }
  }
  // the walk must see the models commander saw; anything else is a command line it does not understand
  if (specs.map((s) => s.ref).join("\0") !== models.join("\0")) {
    throw new UserError("Cannot tell which --variant belongs to which model.", { hint: variantHint });
  }
  return specs;
}

async function readRequests(flags: CompareFlags): Promise<CompareRequest[]> {
  if (flags.file !== undefined) {
    if (flags.input !== undefined || flags.text !== undefined) {
      throw new UserError("Use one of --file, --input, --text, not several.", {
        hint: "Give the requests one way: a dataset with --file, or one request with --input or --text.",
      });
    }
    return readDataset(flags.file);
  }
  if (flags.input === undefined && flags.text === undefined) {
    throw new UserError("No requests given.", {
      hint: "Pass a dataset with --file eval.jsonl (one JSON request per line), or one request with --input '{…}' or --text \"…\".",
    });
  }
  return [{ request: await readRequest({ input: flags.input, text: flags.text }) }];
}

async function compare(models: string[], flags: CompareFlags, command: Command): Promise<void> {
  const specs = modelSpecs(command, models);
  requireTwoModels(specs);
  const requests = await readRequests(flags);
  const report = await compareModels(specs, {
    requests,
    provider: flags.provider,
    runs: flags.runs,
    warmup: flags.warmup,
    maxTokens: flags.maxTokens,
    onModel: (name, index, total) => {
      if (!flags.json) process.stderr.write(`measuring ${index + 1}/${total}: ${name} …\n`);
    },
  });
  const table = reportTable(report);
  if (flags.html) {
    await writeFileAtomic(flags.html, renderReportHtml(report, table));
    if (!flags.json) process.stderr.write(`wrote ${flags.html}\n`);
  }
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }
  const labelled = report.labelled_rows > 0 ? `, ${report.labelled_rows} labelled` : "";
  const generation = report.kind === "generation";
  const runs = flags.runs ?? (generation ? defaults.run.generationRuns : defaults.run.runs);
  const timed = generation
    ? `greedy answers of up to ${report.max_tokens} tokens; speed: the first prompt, ${runs} timed answers`
    : `latency: the first request, ${runs} timed runs`;
  process.stdout.write(
    `${report.requests} request(s)${labelled}; ${timed}\n\n${formatTable(table.header, table.rows)}\n`,
  );
}

export function registerCompareCommand(program: Command): void {
  program
    .command("compare")
    .description("Compare models side by side: agreement of their answers, speed, size and memory")
    .argument("<models...>", "two or more models, as `run` names them; the first is the baseline")
    .option("--variant <name>", "ONNX variant of the model just before it: fp32, fp16, q8, q4, …")
    .option("-i, --input <json>", "one request as JSON, or @file.json")
    .option("-t, --text <text>", 'one text request (shortcut for --input \'{"text": "…"}\')')
    .option("-f, --file <path>", "a dataset: one JSON request per line, with an optional `label`")
    .option("-p, --provider <name>", "execution provider for every model: auto, cuda, cpu, …")
    .addOption(
      numberOption(
        "--runs <n>",
        `timed runs of the first request per model (default ${defaults.run.runs}; generation: ${defaults.run.generationRuns} whole answers)`,
        { min: 1 },
      ),
    )
    .addOption(
      numberOption(
        "--warmup <n>",
        `untimed runs before them (default ${defaults.run.warmup}; generation: ${defaults.run.generationWarmup})`,
        { min: 0 },
      ),
    )
    .addOption(
      numberOption("--max-tokens <n>", "generation models: new tokens per greedy answer", {
        min: 1,
        default: defaults.compare.maxTokens,
      }),
    )
    .option("--json", "the report as JSON (see docs/reference/cli.md)")
    .option("--html <path>", "also write the report as a self-contained HTML page with the latency chart")
    .action(runAction(compare));
}
