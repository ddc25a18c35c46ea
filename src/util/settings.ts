import { homedir } from "node:os";
import { join } from "node:path";
import { UserError } from "./errors.js";

/**
 * Every default gpux has and every environment variable it reads, written once. Flags (cli/number-option.ts),
 * help texts, gpux.yml handling and the library API read them from here; nothing below fills a default of its
 * own, so a value a user left out is `undefined` until the one place that applies the default.
 *
 * It sits in util/, imports nothing else of gpux, and so every layer may read it.
 */
export const defaults = {
  serve: {
    /** This machine only. */
    host: "127.0.0.1",
    port: 8080,
    workers: 1,
    maxBatchSize: 8,
    maxQueueDelayMs: 0,
    maxConcurrency: 256,
    timeoutMs: 30_000,
    /**
     * text-generation: a whole answer, from arrival to its last token. Under the openai clients' own 10-minute
     * timeout (so they get a 504 naming the fix, not a client-side timeout), and room for a 4k-token answer at
     * ~15 tokens/s, a small model's pace on a laptop CPU.
     */
    generationTimeoutMs: 300_000,
    /** text-generation: sequences decoding at once per model (continuous batching shares their steps). */
    maxConcurrentSequences: 8,
    /** text-generation: sequences that may wait for a slot; beyond them a request gets 429. */
    maxWaitingSequences: 64,
    workerNice: 10,
    /** Inference in child processes: a native abort in ONNX Runtime kills one, not the server. */
    isolation: "process" as "process" | "thread",
    /** GPUX_SHARED_MEMORY: MiB of memory each inference process shares with the server for its tensors (0: the pipe). */
    sharedMemoryMiB: 64,
    // JSON: room for the 19 MB JSON tensors of ONNX's own backend tests (16 MiB refused them); Fastify's
    // parser took 1.6-1.9 s over 32 MiB of numbers on a busy 2-core machine, so not much more.
    bodyLimit: 32 * 1024 * 1024,
    // Triton's binary tensor data: 4 bytes an FP32 value where JSON takes ~10, so 64 MiB holds 16M values (a
    // batch of 64 images of 3×224×224 is 38.5 MB); it is copied, never parsed.
    binaryBodyLimit: 64 * 1024 * 1024,
    // 32 MiB of JSON in 30 s is ~1.1 MB/s (64 MiB binary: ~2.2 MB/s): slow links still upload a full body,
    // a stalled one is dropped.
    readTimeoutMs: 30_000,
    maxConnections: 1024,
    /** Under Kubernetes' 30 s grace period. */
    shutdownTimeoutMs: 25_000,
    // 2^22 values: ~10-40 MB of JSON that takes ~1-2 s to encode; an Expand to 2e7 values took 8.6 s.
    maxAnswerElements: 4 * 1024 * 1024,
  },
  run: {
    runs: 100,
    warmup: 10,
    /** A generation model's --benchmark (and compare) run makes a whole answer each time: fewer runs. */
    generationRuns: 5,
    generationWarmup: 1,
  },
  /** gpux compare of generation models: new tokens per answer (greedy). */
  compare: { maxTokens: 32 },
  /** gpux.yml `runtime:` (a model's own; never shared between models). */
  runtime: { timeoutSeconds: 30, batchSize: 1 },
  model: { version: "1.0.0" },
  hub: {
    endpoint: "https://huggingface.co",
    /** GPUX_PULL_CONCURRENCY: files downloaded at once. */
    pullConcurrency: 4,
    /** Models `gpux pull A B C` fetches at once (each with its own files at once). */
    modelsAtOnce: 3,
    /** GPUX_HUB_RETRIES: attempts per request. */
    attempts: 4,
    /** GPUX_HUB_BACKOFF_MS: first backoff delay, doubled each retry. */
    backoffMs: 300,
    /** HF_HUB_DOWNLOAD_TIMEOUT: seconds a download may sit idle. */
    downloadIdleTimeoutSeconds: 10,
  },
  /** --atol: the largest difference a conversion may show against the source framework. */
  convert: { atol: 1e-4 },
  /** GPUX_PYTHON: the interpreter of the conversion bridge. */
  python: "python3",
} as const;

/** What a number must be: at least `min`, at most `max`, whole unless `integer` is false. */
export interface NumberRule {
  min: number;
  max?: number;
  /** Default true. */
  integer?: boolean;
}

/** "a whole number ≥ 1", "a whole number from 0 to 19", "a number ≥ 0". */
export function describeNumberRule(rule: NumberRule): string {
  const kind = rule.integer === false ? "a number" : "a whole number";
  return rule.max === undefined ? `${kind} ≥ ${rule.min}` : `${kind} from ${rule.min} to ${rule.max}`;
}

/**
 * `text` as a number obeying `rule`, or a UserError naming `name` (a flag or a variable), the rule and the text.
 * Strict: "", "abc", "1.5" for a whole number and "0x10" are refused, not read as 0, NaN or 16.
 */
export function parseNumberSetting(text: string, name: string, rule: NumberRule, hint?: string): number {
  const trimmed = text.trim();
  const shape = rule.integer === false ? /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i : /^[+-]?\d+$/;
  const n = Number(trimmed);
  if (
    !shape.test(trimmed) ||
    !Number.isFinite(n) ||
    n < rule.min ||
    (rule.max !== undefined && n > rule.max)
  ) {
    throw new UserError(`${name} must be ${describeNumberRule(rule)}, got '${text}'.`, {
      hint: hint ?? `Give ${name} ${describeNumberRule(rule)}.`,
    });
  }
  return n;
}

type Env = NodeJS.ProcessEnv;

/** A numeric variable: its default when unset or empty, else parsed strictly (a typo is an error, not 0). */
function envNumber(env: Env, name: string, fallback: number, rule: NumberRule): number {
  const text = env[name];
  if (text === undefined || text.trim() === "") return fallback;
  return parseNumberSetting(text, name, rule, `Unset ${name} for the default (${fallback}).`);
}

/** "1", "true", "yes", "on" (any case) — how huggingface_hub reads its boolean variables. */
export const envFlag = (value: string | undefined) =>
  value !== undefined && /^(1|true|yes|on)$/i.test(value.trim());

/** A base URL from a variable: it must carry its scheme (a bare `localhost:8080` would parse as scheme "localhost"). */
function envBaseUrl(env: Env, name: string, fallback: string): string {
  const text = env[name]?.trim();
  if (!text) return fallback;
  let url: URL | undefined;
  try {
    url = /^https?:\/\//i.test(text) ? new URL(text) : undefined;
  } catch {
    url = undefined;
  }
  if (!url) {
    const schemeless = !/^[a-z][a-z0-9+.-]*:\/\//i.test(text);
    throw new UserError(`${name} must be an http:// or https:// URL, got '${text}'.`, {
      hint: schemeless
        ? `Add http:// (or https://): ${name}=http://${text}, or unset it for ${fallback}.`
        : `Use an http:// or https:// address, or unset ${name} for ${fallback}.`,
    });
  }
  return text.replace(/\/+$/, "");
}

/** Environment variables, each parsed and checked where it is read (pass `env` to read another set). */
export const envSettings = {
  /** GPUX_HOME: gpux's own folder (the store). Default ~/.gpux. */
  gpuxHome: (env: Env = process.env) => env.GPUX_HOME || join(homedir(), ".gpux"),
  /** GPUX_PYTHON: the Python the conversion bridge runs with. Default python3. */
  python: (env: Env = process.env) => env.GPUX_PYTHON || defaults.python,
  /** True when GPUX_PYTHON names the interpreter (hints then speak of it, not of python3). */
  pythonChosen: (env: Env = process.env) => Boolean(env.GPUX_PYTHON),
  /** GPUX_VERBOSE=1: debug lines and stack traces, as --verbose (worker threads see it too). */
  verbose: (env: Env = process.env) => env.GPUX_VERBOSE === "1",
  /** GPUX_API_KEY: the key `gpux serve` requires when --api-key is not given. */
  apiKey: (env: Env = process.env) => env.GPUX_API_KEY,
  /** GPUX_SERVER_ID: set by `gpux serve -d` for the server it starts in the background (its record and log). */
  serverId: (env: Env = process.env) => env.GPUX_SERVER_ID || undefined,
  /** GPUX_PULL_CONCURRENCY: files a pull downloads at once (≥ 1). */
  pullConcurrency: (env: Env = process.env) =>
    envNumber(env, "GPUX_PULL_CONCURRENCY", defaults.hub.pullConcurrency, { min: 1 }),
  /** GPUX_SHARED_MEMORY: each inference process's shared arena in MiB (≥ 0; 0 sends tensors through the pipe). */
  sharedMemoryMiB: (env: Env = process.env) =>
    envNumber(env, "GPUX_SHARED_MEMORY", defaults.serve.sharedMemoryMiB, { min: 0 }),
  /** GPUX_HUB_RETRIES: attempts per Hub request (≥ 1). */
  hubAttempts: (env: Env = process.env) =>
    envNumber(env, "GPUX_HUB_RETRIES", defaults.hub.attempts, { min: 1 }),
  /** GPUX_HUB_BACKOFF_MS: first backoff delay in ms (≥ 0). */
  hubBackoffMs: (env: Env = process.env) =>
    envNumber(env, "GPUX_HUB_BACKOFF_MS", defaults.hub.backoffMs, { min: 0 }),
  /** HF_HUB_DOWNLOAD_TIMEOUT (seconds, as huggingface_hub reads it), in ms. */
  downloadIdleTimeoutMs: (env: Env = process.env) =>
    envNumber(env, "HF_HUB_DOWNLOAD_TIMEOUT", defaults.hub.downloadIdleTimeoutSeconds, {
      min: 0.001,
      integer: false,
    }) * 1000,
  /** HF_ENDPOINT: the Hub or a mirror, without trailing slash. */
  hubEndpoint: (env: Env = process.env) => envBaseUrl(env, "HF_ENDPOINT", defaults.hub.endpoint),
  /** HF_HUB_OFFLINE=1: resolve from the cache only. */
  hubOffline: (env: Env = process.env) => envFlag(env.HF_HUB_OFFLINE),
  /** HF_TOKEN (or the older HUGGING_FACE_HUB_TOKEN). */
  hubToken: (env: Env = process.env) => env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN || undefined,
  /** $HF_HOME, else $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface (as huggingface_hub does). */
  hfHome: (env: Env = process.env) =>
    env.HF_HOME || join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "huggingface"),
  /** HF_HUB_CACHE (or HUGGINGFACE_HUB_CACHE), else $HF_HOME/hub. */
  hubCacheDir: (env: Env = process.env) =>
    env.HF_HUB_CACHE || env.HUGGINGFACE_HUB_CACHE || join(envSettings.hfHome(env), "hub"),
  /** HF_TOKEN_PATH, else the file `huggingface-cli login` writes ($HF_HOME/token). */
  hubTokenPath: (env: Env = process.env) => env.HF_TOKEN_PATH || join(envSettings.hfHome(env), "token"),
};
