import { statSync } from "node:fs";
import * as ort from "onnxruntime-node";
import { type ProviderName, parseProviderName, providerPreference } from "../onnx/provider-names.js";
import { errorMessage, NotFoundError, RuntimeFailure, UserError } from "../util/errors.js";
import { log } from "../util/log.js";
import { listProviders } from "./providers.js";

export interface CreateSessionOptions {
  /** `auto` (default) walks the fallback chain; a name forces that provider. */
  provider?: string;
  /** Collect ONNX Runtime's profile (gpux.yml runtime.enable_profiling) into `<prefix>_<date>.json`. */
  profileFilePrefix?: string;
  /** Intra-op threads; default lets ONNX Runtime decide. */
  intraOpNumThreads?: number;
  /** GPU memory limit in bytes for CUDA (gpux.yml runtime.gpu.memory). */
  gpuMemoryLimit?: number;
  /** Save the graph after ONNX Runtime's optimisations to this path (gpux build --optimize). */
  optimizedModelPath?: string;
}

export interface ProviderAttempt {
  provider: ProviderName;
  ok: boolean;
  reason: string;
}

export interface SessionHandle {
  session: ort.InferenceSession;
  provider: ProviderName;
  /** Why this provider: each provider tried, in order, with what happened. */
  attempts: ProviderAttempt[];
}

function providerConfig(
  name: ProviderName,
  options: CreateSessionOptions,
): ort.InferenceSession.ExecutionProviderConfig {
  if (name === "cuda" && options.gpuMemoryLimit) {
    return {
      name: "cuda",
      gpuMemLimit: options.gpuMemoryLimit,
    } as ort.InferenceSession.ExecutionProviderConfig;
  }
  return name;
}

async function tryCreate(
  modelPath: string,
  name: ProviderName,
  options: CreateSessionOptions,
): Promise<ort.InferenceSession> {
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: [providerConfig(name, options)],
    enableProfiling: options.profileFilePrefix !== undefined,
    graphOptimizationLevel: "all",
    // Fatal only: a failed provider is reported once by gpux, not by ONNX Runtime's native logger.
    logSeverityLevel: 4,
  };
  // ONNX Runtime's telemetry (on by default) matches the process's command line against regexes that recurse
  // per character: a `--input` of 40 KB overflowed the stack while the first session was created and killed
  // gpux with SIGSEGV (onnxruntime-node 1.30). It is read when the first session is created; a user's own
  // setting stays.
  process.env.ORT_DISABLE_TELEMETRY ??= "1";
  if (options.profileFilePrefix !== undefined) sessionOptions.profileFilePrefix = options.profileFilePrefix;
  if (options.intraOpNumThreads !== undefined) sessionOptions.intraOpNumThreads = options.intraOpNumThreads;
  if (options.optimizedModelPath !== undefined)
    sessionOptions.optimizedModelFilePath = options.optimizedModelPath;
  return ort.InferenceSession.create(modelPath, sessionOptions);
}

function classifyLoadError(modelPath: string, error: unknown): Error {
  const message = errorMessage(error);
  // A complete file with an operator this ONNX Runtime lacks: downloading it again would not help.
  const operator =
    /No Op registered for (\S+) with domain_version of (\d+)|No opset import for domain '([^']*)'|Could not find an implementation for (\S+)/.exec(
      message,
    );
  if (operator) {
    const what = operator[1]
      ? `operator ${operator[1]} (opset ${operator[2]})`
      : operator[3] !== undefined
        ? `operators of domain '${operator[3]}'`
        : `operator ${operator[4]}`;
    return new UserError(
      `'${modelPath}' uses ${what}, which ONNX Runtime ${ort.env.versions.common} does not support.`,
      {
        hint: "Re-export the model with standard ONNX operators (or a lower opset), or upgrade gpux for a newer ONNX Runtime.",
        cause: error,
      },
    );
  }
  if (
    /protobuf parsing failed|load model .* failed|invalid_protobuf|model_path must not be empty/i.test(
      message,
    )
  ) {
    return new UserError(`'${modelPath}' is not a valid ONNX model: ${message.split("\n")[0]}`, {
      hint: "Check that the file is a complete .onnx file (re-download or re-export it).",
      cause: error,
    });
  }
  return new RuntimeFailure(`ONNX Runtime could not open '${modelPath}': ${message.split("\n")[0]}`, {
    cause: error,
  });
}

/**
 * Open an ONNX Runtime session on the best provider. `auto` tries each available provider in
 * preference order and falls back to the next when session creation fails; CPU always ends the chain.
 */
export async function createSession(
  modelPath: string,
  options: CreateSessionOptions = {},
): Promise<SessionHandle> {
  const requested = parseProviderName(options.provider ?? "auto");
  if (requested === undefined) {
    throw new UserError(`Unknown execution provider '${options.provider}'.`, {
      hint: `Use one of: auto, ${providerPreference.join(", ")}.`,
    });
  }
  if (!statSync(modelPath, { throwIfNoEntry: false })?.isFile()) {
    throw new NotFoundError(`Model file '${modelPath}' does not exist.`, {
      hint: "Check the path, or run `gpux pull` for a Hub model.",
    });
  }
  const statuses = listProviders();
  const attempts: ProviderAttempt[] = [];

  if (requested !== "auto") {
    const status = statuses.find((s) => s.name === requested);
    if (!status?.available || requested === "rocm" || requested === "openvino") {
      throw new RuntimeFailure(
        `Execution provider '${requested}' is not available here: ${status?.reason}.`,
        {
          hint: "Run `gpux inspect` to list providers, or use --provider auto.",
        },
      );
    }
    try {
      const session = await tryCreate(modelPath, requested, options);
      attempts.push({ provider: requested, ok: true, reason: "forced with --provider" });
      return { session, provider: requested, attempts };
    } catch (error) {
      const classified = classifyLoadError(modelPath, error);
      if (!(classified instanceof RuntimeFailure)) throw classified;
      throw new RuntimeFailure(
        `Execution provider '${requested}' failed: ${errorMessage(error).split("\n")[0]}`,
        {
          hint: "Check the provider's libraries and drivers, or use --provider auto to fall back.",
          cause: error,
        },
      );
    }
  }

  for (const name of providerPreference) {
    const status = statuses.find((s) => s.name === name);
    if (!status?.available) {
      attempts.push({ provider: name, ok: false, reason: status?.reason ?? "unknown" });
      continue;
    }
    try {
      const session = await tryCreate(modelPath, name, options);
      attempts.push({ provider: name, ok: true, reason: "first available provider that opened the model" });
      for (const attempt of attempts) log.debug(`provider ${attempt.provider}: ${attempt.reason}`);
      return { session, provider: name, attempts };
    } catch (error) {
      const classified = classifyLoadError(modelPath, error);
      if (name === "cpu" || !(classified instanceof RuntimeFailure)) throw classified;
      const reason = `session failed: ${errorMessage(error).split("\n")[0]}`;
      attempts.push({ provider: name, ok: false, reason });
      // WebGPU without an adapter is the normal case on servers; only a failing GPU provider deserves a warning.
      const report = name === "webgpu" ? log.debug : log.warn;
      report(`${name} execution provider failed (${reason.slice(16, 200)}); falling back.`);
    }
  }
  throw new RuntimeFailure("No execution provider could open the model.");
}
