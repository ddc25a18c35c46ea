import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { createFetchWithRetries } from "../../net/fetch-with-retries.js";
import { RuntimeFailure, UserError } from "../../util/errors.js";
import { type Credentials, readCredentials } from "./docker-config.js";
import { acceptedManifests } from "./media-types.js";
import { basicHeader, fetchBearerToken, parseChallenge } from "./oci-auth.js";
import { registryErrorDetail, registryHttpError, unreachableRegistry } from "./oci-errors.js";
import { isLoopbackHost } from "./oci-reference.js";

export interface OciClientOptions {
  /** `host[:port]`. */
  host: string;
  /** Speak plain HTTP even though the host is not loopback (`--plain-http`). */
  plainHttp?: boolean;
  /** Credentials to use; default those in Docker's config.json for the host. */
  credentials?: Credentials;
  env?: NodeJS.ProcessEnv;
}

export interface RequestOptions {
  /** `repository:<name>:pull` …: what a bearer token must allow. */
  scope?: string;
  headers?: Record<string, string>;
  /** Made again for each try (a stream body can be sent once). */
  body?: () => RequestInit["body"];
  /** For messages: `the manifest of repo:tag`. */
  what: string;
  /** Statuses the caller handles itself (404 for a HEAD, 201/202 for an upload …); others become errors. */
  accept?: number[];
}

export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  /** `sha256:<hex>` of the bytes. */
  digest: string;
}

const sha256Of = (bytes: Uint8Array) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

/**
 * One registry's Distribution API v2: the auth handshake (anonymous, then Basic or a bearer token per scope),
 * manifests, blob existence, uploads (with cross-repository mounts), the catalog and tags. Network errors,
 * 429 and 5xx are retried as every gpux request is.
 */
export class OciClient {
  readonly origin: string;
  readonly host: string;
  private readonly fetcher: typeof fetch;
  private credentials?: Credentials | null;
  private readonly env: NodeJS.ProcessEnv;
  /** Authorization header per scope ("" for Basic, which fits every scope). */
  private readonly authorization = new Map<string, string>();

  constructor(options: OciClientOptions) {
    this.host = options.host;
    this.env = options.env ?? process.env;
    const scheme = options.plainHttp || isLoopbackHost(options.host) ? "http" : "https";
    this.origin = `${scheme}://${options.host}`;
    this.credentials = options.credentials;
    this.fetcher = createFetchWithRetries({
      tokenOrigin: this.origin,
      unreachable: (cause) => unreachableRegistry(this.origin, cause),
    });
  }

  private async savedCredentials(): Promise<Credentials | undefined> {
    if (this.credentials === undefined)
      this.credentials = (await readCredentials(this.host, this.env)) ?? null;
    return this.credentials ?? undefined;
  }

  private headerFor(scope: string | undefined): string | undefined {
    return this.authorization.get("") ?? this.authorization.get(scope ?? "*");
  }

  /** The Authorization header downloads of `repository` send (after a manifest request set it up). */
  downloadAuth(repository: string): { authorization?: string; tokenOrigin: string } {
    return { authorization: this.headerFor(`repository:${repository}:pull`), tokenOrigin: this.origin };
  }

  /** A request with the auth handshake: anonymous first, then what the 401's challenge asks for. */
  async request(method: string, pathOrUrl: string, options: RequestOptions): Promise<Response> {
    const url = new URL(pathOrUrl, this.origin).href;
    const send = (authorization: string | undefined) => {
      const headers: Record<string, string> = { ...options.headers };
      if (authorization) headers.authorization = authorization;
      const body = options.body?.();
      return this.fetcher(url, {
        method,
        headers,
        body,
        redirect: "follow",
        ...(body && typeof body === "object" && Symbol.asyncIterator in body ? { duplex: "half" } : {}),
      } as RequestInit);
    };
    let response = await send(this.headerFor(options.scope));
    if (response.status === 401) {
      const challenge = parseChallenge(response.headers.get("www-authenticate") ?? "");
      await response.body?.cancel();
      const credentials = await this.savedCredentials();
      let header: string | undefined;
      if (challenge?.scheme === "basic" && credentials) {
        header = basicHeader(credentials);
        this.authorization.set("", header);
      } else if (challenge?.scheme === "bearer") {
        const token = await fetchBearerToken(challenge, options.scope, credentials, this.fetcher);
        if (!token.token)
          throw registryHttpError(token.status, options.what, this.host, "", Boolean(credentials));
        header = `Bearer ${token.token}`;
        this.authorization.set(options.scope ?? "*", header);
      }
      if (!header) throw registryHttpError(401, options.what, this.host, "", Boolean(credentials));
      response = await send(header);
      if (response.status === 401) {
        await response.body?.cancel();
        throw registryHttpError(401, options.what, this.host, "", Boolean(credentials));
      }
    }
    if (!response.ok && !options.accept?.includes(response.status)) {
      throw registryHttpError(
        response.status,
        options.what,
        this.host,
        await registryErrorDetail(response),
        Boolean(this.credentials),
      );
    }
    return response;
  }

  /** `GET /v2/`: the registry is there and takes these credentials (what `gpux login` checks). */
  async ping(): Promise<void> {
    const response = await this.request("GET", "/v2/", { what: "the API root /v2/" });
    await response.body?.cancel();
  }

  /** A manifest (or index) by tag or digest, its digest checked when the reference pins one. */
  async getManifest(repository: string, reference: string): Promise<FetchedManifest> {
    const response = await this.request("GET", `/v2/${repository}/manifests/${reference}`, {
      scope: `repository:${repository}:pull`,
      headers: { accept: acceptedManifests.join(", ") },
      what: `the manifest ${repository}${reference.startsWith("sha256:") ? "@" : ":"}${reference}`,
    });
    const bytes = Buffer.from(await response.arrayBuffer());
    if (bytes.length > 4 << 20) {
      throw new RuntimeFailure(`The manifest of ${repository} is larger than 4 MiB.`, {
        hint: "That is not a model manifest; check the reference.",
      });
    }
    const digest = sha256Of(bytes);
    if (reference.startsWith("sha256:") && digest !== reference) {
      throw new RuntimeFailure(
        `${this.host} answered a manifest whose digest is ${digest}, not ${reference}.`,
        {
          hint: "The registry or a proxy altered the manifest; nothing was registered.",
        },
      );
    }
    const mediaType = (response.headers.get("content-type") ?? "").split(";")[0]?.trim() ?? "";
    return { bytes, mediaType, digest };
  }

  async putManifest(repository: string, tag: string, bytes: Buffer, mediaType: string): Promise<string> {
    const response = await this.request("PUT", `/v2/${repository}/manifests/${tag}`, {
      scope: `repository:${repository}:pull,push`,
      headers: { "content-type": mediaType },
      body: () => bytes,
      what: `the manifest ${repository}:${tag}`,
    });
    await response.body?.cancel();
    return sha256Of(bytes);
  }

  /** True when the repository already has the blob (HEAD). */
  async hasBlob(
    repository: string,
    digest: string,
    scope = `repository:${repository}:pull,push`,
  ): Promise<boolean> {
    const response = await this.request("HEAD", `/v2/${repository}/blobs/${digest}`, {
      scope,
      what: `blob ${digest} of ${repository}`,
      accept: [404],
    });
    await response.body?.cancel();
    return response.ok;
  }

  /**
   * Upload a blob from a file (or bytes): first a cross-repository mount when `mountFrom` names a repository of
   * the same registry holding it, else one upload session finished with a single PUT (the spec's monolithic
   * upload). Returns true when it was mounted.
   */
  async uploadBlob(
    repository: string,
    blob: { digest: string; size: number; file?: string; bytes?: Buffer },
    options: { mountFrom?: string; onBytes?: (done: number) => void } = {},
  ): Promise<"mounted" | "uploaded"> {
    const scope = options.mountFrom
      ? `repository:${repository}:pull,push repository:${options.mountFrom}:pull`
      : `repository:${repository}:pull,push`;
    const query = options.mountFrom
      ? `?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(options.mountFrom)}`
      : "";
    const started = await this.request("POST", `/v2/${repository}/blobs/uploads/${query}`, {
      scope,
      what: `an upload to ${repository}`,
      accept: [201, 202],
    });
    await started.body?.cancel();
    if (started.status === 201) return "mounted";
    const location = started.headers.get("location");
    if (!location) {
      throw new RuntimeFailure(`${this.host} started an upload to ${repository} without a Location.`, {
        hint: "The registry does not follow the distribution spec; ask its operators.",
      });
    }
    const target = new URL(location, this.origin);
    target.searchParams.set("digest", blob.digest);
    const body = (): RequestInit["body"] => {
      if (blob.bytes) return blob.bytes;
      const file = blob.file as string;
      const onBytes = options.onBytes;
      // an async iterable straight from the file: fetch streams it without a web-stream conversion per chunk
      async function* chunks() {
        let done = 0;
        for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
          done += (chunk as Buffer).length;
          onBytes?.(done);
          yield chunk as Buffer;
        }
      }
      return chunks() as unknown as RequestInit["body"];
    };
    const finished = await this.request("PUT", target.href, {
      scope,
      headers: { "content-type": "application/octet-stream", "content-length": String(blob.size) },
      body,
      what: `blob ${blob.digest} of ${repository}`,
    });
    await finished.body?.cancel();
    const stored = finished.headers.get("docker-content-digest");
    if (stored && stored !== blob.digest) {
      throw new RuntimeFailure(`${this.host} stored blob ${blob.digest} as ${stored}.`, {
        hint: "The file changed while it was uploaded, or the registry altered it; push again.",
      });
    }
    return "uploaded";
  }

  /** `GET /v2/_catalog`: repositories, or undefined when the registry does not list them. */
  async catalog(limit = 100): Promise<string[] | undefined> {
    const response = await this.request("GET", `/v2/_catalog?n=${limit}`, {
      scope: "registry:catalog:*",
      what: "the catalog",
      accept: [401, 403, 404, 405],
    });
    if (!response.ok) {
      await response.body?.cancel();
      return undefined;
    }
    const body = (await response.json().catch(() => ({}))) as { repositories?: unknown };
    return Array.isArray(body.repositories) ? body.repositories.filter((r) => typeof r === "string") : [];
  }

  async tags(repository: string): Promise<string[]> {
    const response = await this.request("GET", `/v2/${repository}/tags/list`, {
      scope: `repository:${repository}:pull`,
      what: `the tags of ${repository}`,
    });
    const body = (await response.json().catch(() => ({}))) as { tags?: unknown };
    return Array.isArray(body.tags) ? body.tags.filter((t) => typeof t === "string") : [];
  }
}

/** A registry answer that is not what the spec says (a manifest that does not parse …). */
export const malformed = (what: string, host: string) =>
  new UserError(`${host} answered ${what} gpux cannot read.`, {
    hint: "Check the reference: it should name a ModelPack artifact or a modelcar image.",
  });
