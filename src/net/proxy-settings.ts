import { UserError } from "../util/errors.js";
import { socketAddress } from "./socket-address.js";

/**
 * Which proxy, if any, a request to a URL goes through: HTTPS_PROXY for https URLs, HTTP_PROXY for http ones
 * (a lower-case variable wins when set and not empty), unless NO_PROXY names the host.
 *
 * NO_PROXY: entries separated by commas or spaces; `*` alone turns proxying off; an entry matches its host and
 * every subdomain (`example.com`, `.example.com` and `*.example.com` mean the same); `host:port` (or
 * `[ipv6]:port`) matches that port only; IP addresses match exactly.
 */
export function proxyFor(target: URL, env: NodeJS.ProcessEnv = process.env): URL | undefined {
  const variable =
    target.protocol === "https:"
      ? env.https_proxy || env.HTTPS_PROXY
      : target.protocol === "http:"
        ? env.http_proxy || env.HTTP_PROXY
        : undefined;
  if (!variable?.trim()) return undefined;
  if (bypassed(target, env.no_proxy || env.NO_PROXY || "")) return undefined;
  return parseProxyUrl(variable.trim());
}

/** A proxy variable's value as a URL; a bare `host:port` means http://host:port. */
export function parseProxyUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
  } catch {
    throw new UserError(`The proxy setting '${value}' is not a URL.`, {
      hint: "Set HTTPS_PROXY / HTTP_PROXY to http://host:port (or http://<user>:<password>@host:port).",
    });
  }
  if (url.protocol !== "http:")
    throw new UserError(`The proxy ${url.protocol}//${url.host} is not supported.`, {
      hint: "gpux reaches proxies over plain HTTP and tunnels with CONNECT: use an http:// proxy URL.",
    });
  return url;
}

interface NoProxyEntry {
  name: string;
  port?: number;
}

function parseEntry(entry: string): NoProxyEntry {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed)
    return { name: bracketed[1] as string, port: bracketed[2] ? Number(bracketed[2]) : undefined };
  // a bare IPv6 address has several colons and no port
  if (entry.indexOf(":") !== entry.lastIndexOf(":")) return { name: entry };
  const [name = "", port] = entry.split(":");
  return { name: name.replace(/^\*?\./, ""), port: port ? Number(port) : undefined };
}

function bypassed(target: URL, noProxy: string): boolean {
  const { host, port } = socketAddress(target);
  for (const raw of noProxy.toLowerCase().split(/[\s,]+/)) {
    if (!raw) continue;
    if (raw === "*") return true;
    const entry = parseEntry(raw);
    if (entry.port !== undefined && entry.port !== port) continue;
    if (host === entry.name || host.endsWith(`.${entry.name}`)) return true;
  }
  return false;
}

/** `Proxy-Authorization` for a proxy URL that carries user:password, else undefined. */
export function proxyAuthorization(proxy: URL): string | undefined {
  if (!proxy.username && !proxy.password) return undefined;
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return `Basic ${Buffer.from(credentials).toString("base64")}`;
}

/** A proxy that wants credentials (HTTP 407): the user's to fix, so never retried. */
export function proxyAuthRequired(proxy: URL, cause?: unknown): UserError {
  return new UserError(`The proxy ${describeProxy(proxy)} requires authentication (HTTP 407).`, {
    hint: "Put the credentials in the proxy URL: HTTPS_PROXY=http://<user>:<password>@host:port.",
    cause,
  });
}

/** The proxy as it may be shown: scheme, host and port, never the credentials. */
export function describeProxy(proxy: URL): string {
  return `${proxy.protocol}//${proxy.host}`;
}
