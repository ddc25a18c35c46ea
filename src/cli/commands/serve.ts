import { readFileSync } from "node:fs";
import { type Command, Option } from "commander";
import type { PullPolicy } from "../../app/pull-if-missing.js";
import { resolveModelRef } from "../../app/resolve.js";
import { resolveServeRefs } from "../../app/resolve-repository.js";
import { newServerId, recordServer, serverLogPath } from "../../app/server-records.js";
import type { LoadedConfig } from "../../config/load-config.js";
import type { ServingFlags } from "../../engine/serving-options.js";
import { type ServeOptions, serveModels } from "../../server/serve-models.js";
import { UserError } from "../../util/errors.js";
import { log } from "../../util/log.js";
import { takeOverSignals } from "../../util/process-exit.js";
import { defaults, envSettings } from "../../util/settings.js";
import { numberOption } from "../number-option.js";
import { addPullFlag, pullFirst } from "../pull-flag.js";
import { runAction } from "../run-action.js";
import { serveBanner } from "../serve-banner.js";
import { serveDetached } from "../serve-detached.js";

interface ServeFlags extends ServingFlags {
  pull: PullPolicy;
  detach?: boolean;
  host?: string;
  port?: number;
  apiKey?: string;
  cors?: string;
  apiKeyFile?: string;
  bodyLimit?: number;
  binaryBodyLimit?: number;
  readTimeoutMs?: number;
  maxConnections?: number;
  shutdownTimeoutMs?: number;
  maxAnswerElements?: number;
  modelName?: string;
  config?: string;
}

/** Server-wide settings: flags first, then the first model's gpux.yml `serving:` that sets them, then defaults. */
function serveOptions(flags: ServeFlags, loaded: readonly LoadedConfig[]): ServeOptions {
  const fromYaml = <K extends keyof NonNullable<LoadedConfig["config"]["serving"]>>(key: K) =>
    loaded.map((l) => l.config.serving?.[key]).find((v) => v !== undefined);
  const {
    host,
    port,
    apiKey: apiKeyFlag,
    apiKeyFile,
    cors: corsFlag,
    bodyLimit,
    binaryBodyLimit,
    readTimeoutMs,
    maxConnections,
    shutdownTimeoutMs,
    maxAnswerElements,
    modelName,
    config,
    pull,
    detach,
    ...modelFlags
  } = flags;
  const cors = corsFlag !== undefined ? corsFlag.split(",").map((o) => o.trim()) : fromYaml("cors");
  const apiKey = apiKeyFlag ?? readApiKeyFile(apiKeyFile) ?? envSettings.apiKey() ?? fromYaml("api_key");
  if (apiKey === "")
    throw new UserError("The API key is empty.", { hint: "Pass a non-empty --api-key or none." });
  return {
    ...modelFlags,
    host: host ?? fromYaml("host") ?? defaults.serve.host,
    port: port ?? fromYaml("port") ?? defaults.serve.port,
    apiKey,
    cors: cors === false ? undefined : cors,
    bodyLimit: bodyLimit ?? fromYaml("body_limit"),
    binaryBodyLimit: binaryBodyLimit ?? fromYaml("binary_body_limit"),
    readTimeoutMs: readTimeoutMs ?? fromYaml("read_timeout_ms"),
    maxConnections: maxConnections ?? fromYaml("max_connections"),
    shutdownTimeoutMs: shutdownTimeoutMs ?? fromYaml("shutdown_timeout_ms"),
    maxAnswerElements: maxAnswerElements ?? fromYaml("max_answer_elements"),
  };
}

/** The key from --api-key-file (first line, trimmed): unlike --api-key, it does not show in `ps`. */
function readApiKeyFile(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path, "utf8").split(/\r?\n/, 1)[0]?.trim();
  } catch (error) {
    throw new UserError(`Cannot read the API key file ${path} (${(error as NodeJS.ErrnoException).code}).`, {
      hint: "Pass a readable file holding the key on its first line.",
    });
  }
}

async function serve(refs: string[], flags: ServeFlags): Promise<void> {
  if (!flags.config) await pullFirst(refs, flags.pull);
  // the detached child is started with the same flags (less -d): one that still carries it (`-dp 0`) serves here
  if (flags.detach && envSettings.serverId() === undefined) return serveDetached(process.argv.slice(2));
  let loaded = flags.config
    ? [await resolveModelRef(undefined, { configPath: flags.config })]
    : await resolveServeRefs(refs.length > 0 ? refs : ["."]);
  if (flags.modelName !== undefined) {
    if (loaded.length !== 1)
      throw new UserError("--model-name needs exactly one model.", {
        hint: "Serve the one model with --model-name, or leave the flag out to serve each under its own name.",
      });
    loaded = loaded.map((l) => ({ ...l, config: { ...l.config, name: flags.modelName as string } }));
  }
  for (const warning of loaded.flatMap((l) => l.warnings)) log.warn(warning);
  const options = serveOptions(flags, loaded);
  const server = await serveModels(loaded, options);
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      process.stderr.write(`${signal}: finishing requests in flight, then stopping\n`);
      server.close().then(resolve, (error: unknown) => {
        log.warn(`shutdown: ${String(error)}`);
        resolve();
      });
    };
    // drain first; a second signal exits at once (util/process-exit.ts)
    takeOverSignals(stop);
  });
  process.stderr.write(`loading ${loaded.map((l) => l.config.name).join(", ")} …\n`);
  try {
    await server.ready;
  } catch (error) {
    await server.close();
    throw error;
  }
  process.stdout.write(serveBanner(server.url, server.models));
  if (options.host !== "127.0.0.1" && options.host !== "localhost" && options.apiKey === undefined) {
    log.warn(
      `listening on ${options.host} without --api-key: anyone who can reach this port can use the models`,
    );
  }
  const id = envSettings.serverId();
  const forget = await recordServer({
    id: id ?? newServerId(),
    url: server.url,
    models: server.models.map((m) => m.name),
    log: id !== undefined ? serverLogPath(id) : undefined,
    shutdownTimeoutMs: options.shutdownTimeoutMs ?? defaults.serve.shutdownTimeoutMs,
  });
  await stopped;
  await forget();
  process.stderr.write("stopped\n");
}

export function registerServeCommand(program: Command): void {
  const d = defaults.serve;
  const command = program
    .command("serve")
    .description(
      "Serve models over HTTP: gpux API, Open Inference Protocol v2, OpenAI /v1 (chat, completions, embeddings, rerank), metrics, playground",
    )
    .argument(
      "[models...]",
      "models: .onnx files, folders (with or without gpux.yml), model repositories, pulled names",
    )
    .option("--host <address>", `address to bind (serving.host, default ${d.host})`)
    .addOption(
      numberOption("-p, --port <n>", `port; 0 picks a free one (serving.port, default ${d.port})`, {
        min: 0,
        max: 65535,
      }),
    )
    .addOption(
      numberOption(
        "--workers <n>",
        `inference worker threads per model (serving.workers, default ${d.workers})`,
        { min: 1 },
      ),
    )
    .addOption(
      numberOption(
        "--max-batch-size <n>",
        `rows merged into one run (serving.max_batch_size, default ${d.maxBatchSize})`,
        { min: 1 },
      ),
    )
    .addOption(
      numberOption(
        "--max-queue-delay-ms <ms>",
        `wait for a fuller batch (serving.max_queue_delay_ms, default ${d.maxQueueDelayMs})`,
        { min: 0, integer: false },
      ),
    )
    .addOption(
      numberOption(
        "--max-concurrency <n>",
        `requests admitted per model before 429 (serving.max_concurrency, default ${d.maxConcurrency})`,
        { min: 1 },
      ),
    )
    .addOption(
      numberOption(
        "--max-concurrent-sequences <n>",
        `text-generation: sequences decoding at once per model (serving.max_concurrent_sequences, default ${d.maxConcurrentSequences})`,
        { min: 1 },
      ),
    )
    .addOption(
      numberOption(
        "--max-waiting-sequences <n>",
        `text-generation: sequences waiting for a slot before 429 (serving.max_waiting_sequences, default ${d.maxWaitingSequences})`,
        { min: 0 },
      ),
    )
    .addOption(
      numberOption(
        "--timeout-ms <ms>",
        `per-request deadline before 504 (serving.timeout_ms, default ${d.timeoutMs}); text-generation: to the first token`,
        { min: 1, integer: false },
      ),
    )
    .addOption(
      numberOption(
        "--generation-timeout-ms <ms>",
        `text-generation: deadline for a whole answer before 504 or a stream's error event (serving.generation_timeout_ms, default ${d.generationTimeoutMs})`,
        { min: 1, integer: false },
      ),
    )
    .option(
      "--api-key <key>",
      "require this key as Bearer token (serving.api_key); visible in `ps`: prefer env GPUX_API_KEY or --api-key-file",
    )
    .option("--api-key-file <path>", "read the API key from the first line of this file")
    .option("--cors <origins>", "allow browser calls from these comma-separated origins, or * (serving.cors)")
    .option("--provider <name>", "execution provider: auto, tensorrt, cuda, dml, coreml, webgpu, cpu")
    .addOption(
      numberOption(
        "--worker-nice <n>",
        `nice value of inference threads, 0 to 19 (serving.worker_nice, default ${d.workerNice})`,
        { min: 0, max: 19 },
      ),
    )
    .addOption(
      new Option(
        "--isolation <where>",
        `run inference and generation in child processes (a native crash kills one, restarted) or threads (serving.isolation, default ${d.isolation})`,
      ).choices(["process", "thread"]),
    )
    .addOption(
      numberOption(
        "--body-limit <bytes>",
        `largest JSON request body before 413 (serving.body_limit, default ${d.bodyLimit / 2 ** 20} MiB)`,
        { min: 1 },
      ),
    )
    .addOption(
      numberOption(
        "--binary-body-limit <bytes>",
        `largest binary OIP body (Triton's binary tensor data) before 413 (serving.binary_body_limit, default ${d.binaryBodyLimit / 2 ** 20} MiB)`,
        { min: 1 },
      ),
    )
    .addOption(
      numberOption(
        "--read-timeout-ms <ms>",
        `headers + body must arrive within this, else 408 (serving.read_timeout_ms, default ${d.readTimeoutMs})`,
        { min: 1 },
      ),
    )
    .addOption(
      numberOption(
        "--max-connections <n>",
        `open connections at once; more are closed (serving.max_connections, default ${d.maxConnections})`,
        { min: 1 },
      ),
    )
    .addOption(
      numberOption(
        "--shutdown-timeout-ms <ms>",
        `SIGTERM: cut requests still open after this (serving.shutdown_timeout_ms, default ${d.shutdownTimeoutMs})`,
        { min: 1 },
      ),
    )
    .addOption(
      numberOption(
        "--max-answer-elements <n>",
        `most values in one answer (serving.max_answer_elements, default ${d.maxAnswerElements})`,
        { min: 1 },
      ),
    )
    .option(
      "--model-name <name>",
      "serve the one model under this name (KServe passes the InferenceService name)",
    )
    .option("-c, --config <path>", "gpux.yml to serve")
    .option(
      "-d, --detach",
      "run in the background: print the server's id and URL once it listens (see gpux ps)",
    );
  addPullFlag(command).action(runAction(serve));
}
