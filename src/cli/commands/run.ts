import type { Command } from "commander";
import { benchmarkModel } from "../../engine/benchmark.js";
import { Model } from "../../engine/model.js";
import { resolveModelRef } from "../../resolve.js";
import { UserError } from "../../util/errors.js";
import { writeFileAtomic } from "../../util/fs-atomic.js";
import { log } from "../../util/log.js";
import { formatTable } from "../format-table.js";
import { readRequest } from "../read-request.js";
import { runAction } from "../run-action.js";

interface RunOptions {
  input?: string;
  file?: string;
  text?: string;
  image?: string;
  output?: string;
  config?: string;
  provider?: string;
  benchmark?: boolean;
  runs: string;
  warmup: string;
  json?: boolean;
}

function positiveInt(value: string, flag: string, min = 1): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new UserError(`${flag} must be an integer ≥ ${min}, got '${value}'.`);
  return n;
}

const fmt = (ms: number) => ms.toFixed(3);

async function run(ref: string | undefined, options: RunOptions): Promise<void> {
  const request = await readRequest(options);
  const loaded = await resolveModelRef(ref, { configPath: options.config });
  for (const warning of loaded.warnings) log.warn(warning);
  const model = await Model.load(loaded, { provider: options.provider, origin: "cli" });
  try {
    if (options.benchmark) {
      const runs = positiveInt(options.runs, "--runs");
      const warmup = positiveInt(options.warmup, "--warmup", 0);
      const result = await benchmarkModel(model, request, { runs, warmup });
      if (options.output) await writeFileAtomic(options.output, `${JSON.stringify(result, null, 2)}\n`);
      if (options.json) {
        process.stdout.write(`${JSON.stringify(result)}\n`);
        return;
      }
      const shapes = Object.entries(result.inputShapes)
        .map(([name, shape]) => `${name}[${shape.join(",")}]`)
        .join(" ");
      const row = (label: string, s: typeof result.sessionMs) => [
        label,
        fmt(s.mean),
        fmt(s.std),
        fmt(s.min),
        fmt(s.p50),
        fmt(s.p90),
        fmt(s.p95),
        fmt(s.p99),
        fmt(s.max),
      ];
      process.stdout.write(
        `model ${result.model}  provider ${result.provider}  runs ${runs}  warmup ${warmup}  inputs ${shapes}\n\n` +
          `${formatTable(
            ["ms", "mean", "std", "min", "p50", "p90", "p95", "p99", "max"],
            [row("session", result.sessionMs), row("end-to-end", result.endToEndMs)],
          )}\n\nthroughput ${result.throughput.toFixed(1)} inferences/s\n`,
      );
      return;
    }
    const start = process.hrtime.bigint();
    const result = await model.predict(request);
    const elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
    if (options.output) await writeFileAtomic(options.output, `${JSON.stringify(result, null, 2)}\n`);
    if (options.json) {
      const envelope = { model: model.name, provider: model.provider, elapsed_ms: elapsedMs, result };
      process.stdout.write(`${JSON.stringify(envelope)}\n`);
    } else if (!options.output) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    } else {
      process.stderr.write(`wrote ${options.output}\n`);
    }
  } finally {
    await model.dispose();
  }
}

export function registerRunCommand(program: Command): void {
  program
    .command("run")
    .description("Run a model once on a JSON input (or benchmark it)")
    .argument("[model]", "model: .onnx file, folder with gpux.yml, or a pulled name (default: ./gpux.yml)")
    .option("-i, --input <json>", "request as JSON, or @file.json")
    .option("-f, --file <path>", "read the request from a JSON file")
    .option("-t, --text <text>", 'shortcut for --input \'{"text": "<text>"}\' (text models)')
    .option("--image <path>", 'shortcut for --input \'{"image": "<path>"}\' (image models)')
    .option("-o, --output <path>", "write the result as JSON to this file")
    .option("-c, --config <path>", "gpux.yml to use")
    .option("-p, --provider <name>", "execution provider: auto, tensorrt, cuda, dml, coreml, webgpu, cpu")
    .option("--benchmark", "time the model instead of printing one result")
    .option("--runs <n>", "timed runs with --benchmark", "100")
    .option("--warmup <n>", "untimed warm-up runs with --benchmark", "10")
    .option("--json", "machine-readable output (see docs/reference/cli.md)")
    .action(runAction(run));
}
