/**
 * OCI references, as Docker reads them: `oci://host[:port]/repo[:tag|@sha256:…]`, or `host/repo[:tag]` where the
 * first part is a host (it has a dot or a port, or is `localhost`). The store wants `org/name`: the host is the
 * org and the repository path, with `/` written `~` (a character repository names never hold), is the name.
 */

/** A parsed reference. */
export interface OciReference {
  /** `host[:port]` as typed, lower-cased. */
  host: string;
  /** Repository path inside the registry (`models/tiny`). */
  repository: string;
  /** Tag, when the reference names one (default `latest`). */
  tag?: string;
  /** `sha256:<hex>`, when the reference pins a manifest. */
  digest?: string;
}

const hostPart =
  /^(?:localhost|\[[0-9a-f:]+\]|[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*)(?::\d{1,5})?$/i;
const pathComponent = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const tagPattern = /^\w[\w.-]{0,127}$/;
const digestPattern = /^sha256:[a-f0-9]{64}$/;

/** True when `host` names a registry host (Docker's rule: a dot, a port, or localhost). */
const looksLikeHost = (host: string) =>
  /[.:]/.test(host) || host.toLowerCase() === "localhost" || host.startsWith("[");

/** The reference in `text`, or undefined when it is not one (an `oci://` prefix makes any host acceptable). */
export function parseOciReference(text: string): OciReference | undefined {
  const explicit = /^oci:\/\//i.test(text);
  const rest = explicit ? text.slice("oci://".length) : text;
  const slash = rest.indexOf("/");
  if (slash <= 0) return undefined;
  const host = rest.slice(0, slash);
  if (!hostPart.test(host) || (!explicit && !looksLikeHost(host))) return undefined;
  let path = rest.slice(slash + 1);
  let digest: string | undefined;
  const at = path.indexOf("@");
  if (at !== -1) {
    digest = path.slice(at + 1);
    path = path.slice(0, at);
    if (!digestPattern.test(digest)) return undefined;
  }
  let tag: string | undefined;
  const colon = path.lastIndexOf(":");
  if (colon !== -1 && !path.slice(colon).includes("/")) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!tagPattern.test(tag)) return undefined;
  }
  const components = path.split("/");
  if (!components.every((c) => pathComponent.test(c))) return undefined;
  return { host: host.toLowerCase(), repository: path, tag, digest };
}

/** `host/repo` (what gpux.yml and `gpux ls` show, and what `gpux run` accepts). */
export const referenceName = (ref: Pick<OciReference, "host" | "repository">) =>
  `${ref.host}/${ref.repository}`;

/** The store's `org/name` for a repository: `host/path~with~slashes`. */
export const storeRepoId = (ref: Pick<OciReference, "host" | "repository">) =>
  `${ref.host}/${ref.repository.split("/").join("~")}`;

/** Back from the store's id to host and repository. */
export function fromStoreRepoId(repoId: string): Pick<OciReference, "host" | "repository"> {
  const [host = "", name = ""] = repoId.split("/");
  return { host, repository: name.split("~").join("/") };
}

/** `tag` or `sha256:…`: what the reference asks for (default `latest`). */
export const referenceRevision = (ref: OciReference) => ref.digest ?? ref.tag ?? "latest";

/** True for `oci://…` and `host.with.dot/…`, `host:port/…`: text no other registry should read first. */
export const claimsOciReference = (text: string) => parseOciReference(text) !== undefined;

/** Loopback hosts, reached over plain HTTP without `--plain-http` (a local `registry:2`). */
export function isLoopbackHost(host: string): boolean {
  const name = host.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  return name === "localhost" || name === "::1" || /^127\.\d+\.\d+\.\d+$/.test(name);
}

/** What `gpux login` is given (`host:port`, `oci://host`, `https://host/`) → `host[:port]`, lower-cased. */
export function registryHost(typed: string): string | undefined {
  const host = typed
    .trim()
    .replace(/^(oci|https?):\/\//i, "")
    .replace(/\/.*$/, "");
  return hostPart.test(host) ? host.toLowerCase() : undefined;
}
