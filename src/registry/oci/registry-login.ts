import { UserError } from "../../util/errors.js";
import { type Credentials, removeCredentials, saveCredentials } from "./docker-config.js";
import { OciClient } from "./oci-client.js";
import { registryHost } from "./oci-reference.js";

function hostOf(typed: string): string {
  const host = registryHost(typed);
  if (!host) {
    throw new UserError(`'${typed}' is not a registry host.`, {
      hint: "Write host[:port], e.g. ghcr.io or localhost:5000.",
    });
  }
  return host;
}

/**
 * `gpux login`: check the credentials against the registry (`GET /v2/`, through its Basic or bearer-token
 * challenge), then save them where `docker login` does. Returns the host and the file written.
 */
export async function loginRegistry(
  typed: string,
  credentials: Credentials,
  options: { plainHttp?: boolean; env?: NodeJS.ProcessEnv } = {},
): Promise<{ host: string; path: string }> {
  const host = hostOf(typed);
  await new OciClient({ host, credentials, plainHttp: options.plainHttp, env: options.env }).ping();
  return { host, path: await saveCredentials(host, credentials, options.env) };
}

/** `gpux logout`: forget the saved credentials; false when there were none. */
export function logoutRegistry(typed: string, env?: NodeJS.ProcessEnv): Promise<boolean> {
  return removeCredentials(hostOf(typed), env);
}
