/**
 * The registry auth handshake: try anonymously; on a 401 read `WWW-Authenticate` — `Basic` (send the saved
 * credentials) or `Bearer realm=…,service=…,scope=…` (ask the realm for a token, with the credentials when
 * there are any, and send it). Credentials and tokens stay in memory and in Authorization headers only.
 */
import { UserError } from "../../util/errors.js";
import type { Credentials } from "./docker-config.js";

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** `Bearer realm="https://auth/token",service="registry",scope="repository:a:pull"` → its parts. */
export function parseChallenge(header: string): Challenge | undefined {
  const match = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  for (const pair of (match[2] as string).matchAll(/([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[(pair[1] as string).toLowerCase()] = (pair[2] ?? pair[3] ?? "").replace(/\\(.)/g, "$1");
  }
  return { scheme: (match[1] as string).toLowerCase(), params };
}

export const basicHeader = (credentials: Credentials) =>
  `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`;

/** A GET of the token realm: its status, and its body when it answered 2xx. */
export type TokenGet = (
  url: URL,
  headers: Record<string, string>,
) => Promise<{ status: number; body?: Buffer }>;

/** Ask a token realm for a bearer token for `scope`. */
export async function fetchBearerToken(
  challenge: Challenge,
  scope: string | undefined,
  credentials: Credentials | undefined,
  get: TokenGet,
): Promise<{ status: number; token?: string }> {
  const realm = challenge.params.realm;
  if (!realm) {
    throw new UserError("The registry asked for a bearer token but named no realm to get it from.", {
      hint: "The registry's auth setup is broken; ask its operators.",
    });
  }
  const url = new URL(realm);
  if (challenge.params.service) url.searchParams.set("service", challenge.params.service);
  for (const s of (scope ?? challenge.params.scope ?? "").split(" ").filter(Boolean))
    url.searchParams.append("scope", s);
  const headers: Record<string, string> = {};
  if (credentials) headers.authorization = basicHeader(credentials);
  const answer = await get(url, headers);
  if (answer.status < 200 || answer.status >= 300) return { status: answer.status };
  let body: { token?: unknown; access_token?: unknown } = {};
  try {
    body = JSON.parse(answer.body?.toString("utf8") ?? "");
  } catch {
    // not JSON: no token, answered below as a broken token server
  }
  const token = [body.token, body.access_token].find((t): t is string => typeof t === "string" && t !== "");
  return { status: token ? 200 : 502, token };
}
