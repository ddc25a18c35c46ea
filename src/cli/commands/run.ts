import type { Command } from "commander";
import type { PullPolicy } from "../../app/pull-if-missing.js";
import { resolveModelRef } from "../../app/resolve.js";
import type { BenchmarkResult, DurationStats } from "../../engine/benchmark.js";
import { benchmarkModel } from "../../engine/benchmark.js";
import { Model } from "../../engine/model.js";
import { UserError } from "../../util/errors.js";
import { writeFileAtomic } from "../../util/fs-atomic.js";
import { log } from "../../util/log.js";
import { defaults } from "../../util/settings.js";
import { formatTable } from "../format-table.js";
import { isGenerationModel, runGeneration } from "../generation/run-generation.js";
import { addSamplingFlags, type SamplingFlags } from "../generation/sampling-flags.js";
import { type InferenceWatchdog, startInferenceWatchdog } from "../inference-watchdog.js";
import { numberOption } from "../number-option.js";
import { addPullFlag, pullFirst } from "../pull-flag.js";
import { readRequest } from "../read-request.js";
import { runAction } from "../run-action.js";

interface RunOptions extends SamplingFlags {
  pull: PullPolicy;
  prompt?: string;
  system?: string;
  raw?: boolean;
  input?: string;
  file?: string;
  text?: string;
  image?: string;
  output?: string;
  config?: string;
  provider?: string;
  benchmark?: boolean;
  runs?: number;
  warmup?: number;
  timeout?: number;
  json?: boolean;
  batch?: string;
  errors?: string;
  maxBatchSize?: number;
  workers?: number;
  maxConcurrentSequences?: number;
  lineTimeout?: number;
}

const fmt = (ms: number) => ms.toFixed(3);

function printBenchmark(result: BenchmarkResult): void {
  const shapes = Object.entries(result.input_shapes)
    .map(([name, shape]) => `${name}[${shape.join(",")}]`)
    .join(" ");
  const row = (label: string, s: DurationStats) => [
    label,
    ...[s.mean, s.std, s.min, s.p50, s.p90, s.p95, s.p99, s.max].map(fmt),
  ];
  process.stdout.write(
    `model ${result.model}  provider ${result.provider}  runs ${result.runs}  warmup ${result.warmup}  inputs ${shapes}\n\n` +
      `${formatTable(
        ["ms", "mean", "std", "min", "p50", "p90", "p95", "p99", "max"],
        [row("session", result.session_ms), row("end-to-end", result.end_to_end_ms)],
      )}\n\nthroughput ${result.throughput.toFixed(1)} inferences/s\n`,
  );
}

/** Flags that only `--batch` reads, and those of one request or a benchmark, which `--batch` refuses. */
const batchOnlyFlags = {
  errors: "--errors",
  maxBatchSize: "--max-batch-size",
  workers: "--workers",
  maxConcurrentSequences: "--max-concurrent-sequences",
  lineTimeout: "--line-timeout",
} as const;
const notWithBatch = {
  input: "--input",
  file: "--file",
  text: "--text",
  image: "--image",
  prompt: "--prompt",
  benchmark: "--benchmark",
} as const;

function checkBatchFlags(options: RunOptions): void {
  const [flags, rule] =
    options.batch === undefined
      ? [batchOnlyFlags, "applies to --batch only"]
      : [notWithBatch, "does not go with --batch, which reads each request from a line of its file"];
  const given = Object.entries(flags).find(([key]) => options[key as keyof RunOptions] !== undefined);
  if (given) {
    throw new UserError(`${given[1]} ${rule}.`, {
      hint:
        options.batch === undefined
          ? "Add --batch FILE.jsonl, or leave it out."
          : "Drop it, or run without --batch.",
    });
  }
}

async function run(ref: string | undefined, options: RunOptions): Promise<void> {
  checkBatchFlags(options);
  if (!options.benchmark && (options.runs !== undefined || options.warmup !== undefined)) {
    throw new UserError("--runs and --warmup apply to --benchmark only.", {
      hint: "Add --benchmark to time the model, or leave out --runs and --warmup.",
    });
  }
  if (options.config === undefined) await pullFirst([ref], options.pull);
  if (options.batch !== undefined) {
    const { runBatchCommand } = await import("./run-batch.js");
    return runBatchCommand(ref, { ...options, batch: options.batch });
  }
  // text generation: --prompt, or a text-generation model given no JSON input (chat on a terminal, stdin else)
  const jsonInput = [options.input, options.file, options.text, options.image].some((v) => v !== undefined);
  if (options.prompt !== undefined || (!jsonInput && (await isGenerationModel(ref, options.config)))) {
    return runGeneration(ref, options);
  }
  const { runs = defaults.run.runs, warmup = defaults.run.warmup, timeout: timeoutFlag } = options;
  const request = await readRequest(options);
  const loaded = await resolveModelRef(ref, { configPath: options.config });
  for (const warning of loaded.warnings) log.warn(warning);
  const timeoutSeconds = timeoutFlag ?? loaded.config.runtime.timeout;
  const watchdog: InferenceWatchdog | undefined =
    timeoutSeconds > 0
      ? startInferenceWatchdog(
          timeoutSeconds * 1000,
          `error: inference on model '${loaded.config.name}' ran longer than its ${timeoutSeconds} s limit and was stopped.\n` +
            "hint: raise runtime.timeout in gpux.yml (or pass --timeout SECONDS, 0 for none), or send a smaller input.\n",
        )
      : undefined;
  // a benchmark takes seconds before its first figure: say what it is doing (stderr; stdout keeps the result)
  const step = (text: string) => {
    if (options.benchmark && !options.json) process.stderr.write(`${text}\n`);
  };
  try {
    step(`loading ${loaded.config.name} …`);
    const model = await Model.load(loaded, { provider: options.provider, origin: "cli", runGuard: watchdog });
    try {
      if (options.benchmark) {
        step(`benchmarking on ${model.provider}: ${warmup} warm-up runs, then ${runs} timed runs …`);
        const result = await benchmarkModel(model, request, { runs, warmup });
        if (options.output) await writeFileAtomic(options.output, `${JSON.stringify(result, null, 2)}\n`);
        if (options.json) process.stdout.write(`${JSON.stringify(result)}\n`);
        else printBenchmark(result);
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
  } finally {
    await watchdog?.stop();
  }
}

export function registerRunCommand(program: Command): void {
  const command = program
    .command("run")
    .description("Run a model once on a JSON input (or benchmark it)")
    .argument("[model]", "model: .onnx file, folder with gpux.yml, or a pulled name (default: ./gpux.yml)")
    .option("-i, --input <json>", "request as JSON, @file.json, or - to read it from stdin")
    .option("-f, --file <path>", "read the request from a JSON file (- for stdin)")
    .option("-t, --text <text>", 'shortcut for --input \'{"text": "<text>"}\' (text models)')
    .option("--image <path>", 'shortcut for --input \'{"image": "<path>"}\' (image models)')
    .option(
      "-o, --output <path>",
      "write the result as JSON to this file (with --batch: the answers, one per line)",
    )
    .option("-c, --config <path>", "gpux.yml to use")
    .option("-p, --provider <name>", "execution provider: auto, tensorrt, cuda, dml, coreml, webgpu, cpu")
    .option("--benchmark", "time the model instead of printing one result")
    .addOption(
      numberOption("--runs <n>", `timed runs with --benchmark (default ${defaults.run.runs})`, { min: 1 }),
    )
    .addOption(
      numberOption("--warmup <n>", `untimed warm-up runs with --benchmark (default ${defaults.run.warmup})`, {
        min: 0,
      }),
    )
    .addOption(
      numberOption(
        "--timeout <seconds>",
        `limit per inference (default: gpux.yml runtime.timeout, ${defaults.runtime.timeoutSeconds}); 0 = none`,
        { min: 0, integer: false, hint: "Give --timeout a number of seconds; 0 runs without a time limit." },
      ),
    )
    .option("--json", "machine-readable output (see docs/reference/cli.md)")
    .option("--batch <file>", "one request per line (JSONL): answers to --output in input order, resumable")
    .option("--errors <file>", "with --batch: where lines that fail go (default: OUTPUT.errors)")
    .addOption(
      numberOption(
        "--max-batch-size <n>",
        "with --batch: rows per session run (default: gpux.yml serving, 8)",
        {
          min: 1,
        },
      ),
    )
    .addOption(
      numberOption("--workers <n>", "with --batch: inference threads (default: gpux.yml serving, 1)", {
        min: 1,
      }),
    )
    .addOption(
      numberOption(
        "--max-concurrent-sequences <n>",
        `with --batch, text-generation: lines decoding together (default: gpux.yml serving, ${defaults.serve.maxConcurrentSequences})`,
        { min: 1 },
      ),
    )
    .addOption(
      numberOption("--line-timeout <seconds>", "with --batch: a line taking longer goes to the errors file", {
        min: 0.001,
        integer: false,
      }),
    )
    .option("--prompt <text>", "text-generation models: generate an answer, streamed to stdout")
    .option("-s, --system <text>", "with --prompt: the system turn (models with a chat template)")
    .option("--raw", "with --prompt: send the prompt as it is, without the chat template");
  addSamplingFlags(addPullFlag(command)).action(runAction(run));
}
