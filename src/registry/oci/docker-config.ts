/**
 * Credentials in Docker's own file, `$DOCKER_CONFIG/config.json` (default `~/.docker/config.json`), so gpux and
 * `docker login` share them: `auths["host:port"].auth` is base64 of `user:password`. gpux reads and writes only
 * that field, keeps every other key of the file as it was, and writes the file with mode 0600 as Docker does.
 */
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { UserError } from "../../util/errors.js";
import { writeFileAtomic } from "../../util/fs-atomic.js";

export interface Credentials {
  username: string;
  password: string;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [key: string]: unknown;
}

/** The config file's path: DOCKER_CONFIG (a folder) or ~/.docker. */
export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG || join(homedir(), ".docker"), "config.json");
}

async function readConfig(path: string): Promise<DockerConfig> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as DockerConfig;
  } catch {
    // reported below
  }
  throw new UserError(`${path} is not a JSON object.`, {
    hint: "Fix or move the file (it is Docker's credentials file; DOCKER_CONFIG names its folder).",
  });
}

/** `https://host:port/v1/` or `host:port` → `host:port`, as Docker keys its entries. */
const hostOfKey = (key: string) =>
  key
    .replace(/^https?:\/\//i, "")
    .replace(/\/.*$/, "")
    .toLowerCase();

/** The credentials saved for `host`, if any (a credential helper in use for it is an error with a hint). */
export async function readCredentials(
  host: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Credentials | undefined> {
  const path = dockerConfigPath(env);
  const config = await readConfig(path);
  const entry = Object.entries(config.auths ?? {}).find(([key]) => hostOfKey(key) === host)?.[1];
  if (entry?.auth) {
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (entry?.username && entry.password) return { username: entry.username, password: entry.password };
  const helper = config.credHelpers?.[host] ?? (entry ? config.credsStore : undefined);
  if (helper) {
    throw new UserError(`${path} keeps the credentials for ${host} in the '${helper}' credential helper.`, {
      hint: `gpux reads only the file's auths; run \`gpux login ${host}\` with DOCKER_CONFIG set to another folder.`,
    });
  }
  return undefined;
}

/** Save credentials for `host` (what `docker login` writes), keeping the rest of the file. */
export async function saveCredentials(
  host: string,
  credentials: Credentials,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const path = dockerConfigPath(env);
  const config = await readConfig(path);
  const auths = { ...(config.auths ?? {}) };
  for (const key of Object.keys(auths)) if (hostOfKey(key) === host && key !== host) delete auths[key];
  auths[host] = {
    ...auths[host],
    auth: Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64"),
  };
  await writeConfig(path, { ...config, auths });
  return path;
}

/** Forget the credentials for `host`; false when there were none. */
export async function removeCredentials(
  host: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<boolean> {
  const path = dockerConfigPath(env);
  const config = await readConfig(path);
  const auths = { ...(config.auths ?? {}) };
  const keys = Object.keys(auths).filter((key) => hostOfKey(key) === host);
  if (keys.length === 0) return false;
  for (const key of keys) delete auths[key];
  await writeConfig(path, { ...config, auths });
  return true;
}

/** Written as Docker writes it: tab-indented, readable by its owner only from the first byte. */
async function writeConfig(path: string, config: DockerConfig): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(config, null, "\t")}\n`, { mode: 0o600 });
}
