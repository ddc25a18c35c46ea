import { readFileSync } from "node:fs";
import { envSettings } from "../../util/settings.js";

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

/** $HF_HOME, else $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface (as huggingface_hub does). */
export const hfHome = envSettings.hfHome;

export const hubCacheDir = envSettings.hubCacheDir;

function tokenFromFile(env: NodeJS.ProcessEnv): string | undefined {
  try {
    return readFileSync(envSettings.hubTokenPath(env), "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

export function hubSettings(options: HubSettingsOptions = {}): HubSettings {
  const env = options.env ?? process.env;
  return {
    endpoint: envSettings.hubEndpoint(env),
    token: options.token || envSettings.hubToken(env) || tokenFromFile(env),
    offline: options.offline ?? envSettings.hubOffline(env),
    cacheDir: options.cacheDir ?? hubCacheDir(env),
  };
}
