import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** Where the Hub lives and how to talk to it, from flags first, then the variables huggingface_hub reads. */
export interface HubSettings {
  /** Hub base URL without trailing slash. */
  endpoint: string;
  /** Access token, or undefined for anonymous access. Never printed. */
  token?: string;
  /** Resolve from the cache only. */
  offline: boolean;
  /** Root of the Hugging Face cache (models--org--name folders). */
  cacheDir: string;
}

export interface HubSettingsOptions {
  /** --token; default HF_TOKEN, then the file `huggingface-cli login` writes ($HF_HOME/token). */
  token?: string;
  /** --offline; default HF_HUB_OFFLINE=1. */
  offline?: boolean;
  /** --cache-dir; default HF_HUB_CACHE, then $HF_HOME/hub, then ~/.cache/huggingface/hub. */
  cacheDir?: string;
  /** Default process.env. */
  env?: NodeJS.ProcessEnv;
}

const truthy = (value: string | undefined) => value !== undefined && /^(1|true|yes|on)$/i.test(value.trim());

/** $HF_HOME, else $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface (as huggingface_hub does). */
export function hfHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_HOME) return env.HF_HOME;
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "huggingface");
}

export function hubCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.HF_HUB_CACHE || env.HUGGINGFACE_HUB_CACHE || join(hfHome(env), "hub");
}

function tokenFromFile(env: NodeJS.ProcessEnv): string | undefined {
  const path = env.HF_TOKEN_PATH || join(hfHome(env), "token");
  try {
    return readFileSync(path, "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

export function hubSettings(options: HubSettingsOptions = {}): HubSettings {
  const env = options.env ?? process.env;
  return {
    endpoint: (env.HF_ENDPOINT || "https://huggingface.co").replace(/\/+$/, ""),
    token: options.token || env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN || tokenFromFile(env),
    offline: options.offline ?? truthy(env.HF_HUB_OFFLINE),
    cacheDir: options.cacheDir ?? hubCacheDir(env),
  };
}
