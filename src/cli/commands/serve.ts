import type { Command } from "commander";
import { resolveModelRef } from "../../app/resolve.js";
import { resolveServeRefs } from "../../app/resolve-repository.js";
import type { LoadedConfig } from "../../config/load-config.js";
import type { ServingFlags } from "../../engine/serving-options.js";
import { type ServeOptions, serveModels } from "../../server/serve-models.js";
import { UserError } from "../../util/errors.js";
import { log } from "../../util/log.js";
import { takeOverSignals } from "../../util/process-exit.js";
import { runAction } from "../run-action.js";

interface ServeFlags {
  host?: string;
  port?: string;
  workers?: string;
  maxBatchSize?: string;
  maxQueueDelayMs?: string;
  maxConcurrency?: string;
  timeoutMs?: string;
  apiKey?: string;
  cors?: string;
  provider?: string;
  bodyLimit?: string;
  modelName?: string;
  workerNice?: string;
  config?: string;
}

function numberFlag(
  value: string | undefined,
  flag: string,
  min: number,
  integer = true,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new UserError(`${flag} must be ${integer ? "an integer" : "a number"} ≥ ${min}, got '${value}'.`);
  }
  return n;
}

/** Server-wide settings: flags first, then the first model's gpux.yml `serving:` that sets them. */
function serveOptions(flags: ServeFlags, loaded: readonly LoadedConfig[]): ServeOptions {
  const fromYaml = <K extends "host" | "port" | "api_key" | "cors">(key: K) =>
    loaded.map((l) => l.config.serving?.[key]).find((v) => v !== undefined);
  const modelFlags: ServingFlags = {
    workers: numberFlag(flags.workers, "--workers", 1),
    maxBatchSize: numberFlag(flags.maxBatchSize, "--max-batch-size", 1),
    maxQueueDelayMs: numberFlag(flags.maxQueueDelayMs, "--max-queue-delay-ms", 0, false),
    maxConcurrency: numberFlag(flags.maxConcurrency, "--max-concurrency", 1),
    timeoutMs: numberFlag(flags.timeoutMs, "--timeout-ms", 1, false),
    workerNice: numberFlag(flags.workerNice, "--worker-nice", 0),
    provider: flags.provider,
  };
  const cors = flags.cors !== undefined ? flags.cors.split(",").map((o) => o.trim()) : fromYaml("cors");
  const apiKey = flags.apiKey ?? process.env.GPUX_API_KEY ?? fromYaml("api_key");
  if (apiKey === "")
    throw new UserError("The API key is empty.", { hint: "Pass a non-empty --api-key or none." });
  return {
    ...Object.fromEntries(Object.entries(modelFlags).filter(([, v]) => v !== undefined)),
    host: flags.host ?? fromYaml("host") ?? "127.0.0.1",
    port: numberFlag(flags.port, "--port", 0) ?? fromYaml("port") ?? 8080,
    apiKey,
    cors: cors === false ? undefined : cors,
    bodyLimit: numberFlag(flags.bodyLimit, "--body-limit", 1),
  };
}

async function serve(refs: string[], flags: ServeFlags): Promise<void> {
  let loaded = flags.config
    ? [await resolveModelRef(undefined, { configPath: flags.config })]
    : await resolveServeRefs(refs.length > 0 ? refs : ["."]);
  if (flags.modelName !== undefined) {
    if (loaded.length !== 1) throw new UserError("--model-name needs exactly one model.");
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
  const names = server.models.map(
    (m) => `${m.name} (${m.provider}, ${m.options.workers} worker${m.options.workers > 1 ? "s" : ""})`,
  );
  process.stdout.write(
    `gpux serving ${names.join(", ")}\n  playground  ${server.url}\n  gpux API    ${server.url}predict  ${server.url}info  ${server.url}health\n` +
      `  OIP v2      ${server.url}v2/models/${server.models[0]?.name ?? ""}/infer\n  metrics     ${server.url}metrics\n`,
  );
  if (options.host !== "127.0.0.1" && options.host !== "localhost" && options.apiKey === undefined) {
    log.warn(
      `listening on ${options.host} without --api-key: anyone who can reach this port can use the models`,
    );
  }
  await stopped;
  process.stderr.write("stopped\n");
}

export function registerServeCommand(program: Command): void {
  program
    .command("serve")
    .description("Serve models over HTTP: gpux API, Open Inference Protocol v2, metrics, playground")
    .argument(
      "[models...]",
      "models: .onnx files, folders (with or without gpux.yml), model repositories, pulled names",
    )
    .option("--host <address>", "address to bind (gpux.yml serving.host)", undefined)
    .option("-p, --port <n>", "port; 0 picks a free one (serving.port, default 8080)")
    .option("--workers <n>", "inference worker threads per model (serving.workers, default 1)")
    .option("--max-batch-size <n>", "rows merged into one run (serving.max_batch_size, default 8)")
    .option("--max-queue-delay-ms <ms>", "wait for a fuller batch (serving.max_queue_delay_ms, default 0)")
    .option(
      "--max-concurrency <n>",
      "requests admitted per model before 429 (serving.max_concurrency, default 256)",
    )
    .option("--timeout-ms <ms>", "per-request deadline before 504 (serving.timeout_ms, default 30000)")
    .option("--api-key <key>", "require this key as Bearer token (serving.api_key, env GPUX_API_KEY)")
    .option("--cors <origins>", "allow browser calls from these comma-separated origins, or * (serving.cors)")
    .option("--provider <name>", "execution provider: auto, tensorrt, cuda, dml, coreml, webgpu, cpu")
    .option("--worker-nice <n>", "nice value of inference threads, 0 to 19 (serving.worker_nice, default 10)")
    .option("--body-limit <bytes>", "largest request body before 413 (default 16 MiB)")
    .option(
      "--model-name <name>",
      "serve the one model under this name (KServe passes the InferenceService name)",
    )
    .option("-c, --config <path>", "gpux.yml to serve")
    .action(runAction(serve));
}
