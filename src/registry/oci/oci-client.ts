import { createHash } from "node:crypto";
import { type HttpAnswer, httpRequest, type RequestBody, readBodyBytes } from "../../net/http-request.js";
import {
  hubAttempts,
  hubBackoffMs,
  isRetryableStatus,
  RetryableAnswer,
  withRetries,
} from "../../net/retry.js";
import { GpuxError, RuntimeFailure, UserError } from "../../util/errors.js";
import { log } from "../../util/log.js";
import { envSettings } from "../../util/settings.js";
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
  /** Bytes, or a file streamed from disk (sent again from its start when a request is retried). */
  body?: RequestBody;
  /** Silence allowed while waiting for the answer; default HF_HUB_DOWNLOAD_TIMEOUT (10 s). */
  idleTimeoutMs?: number;
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

/** The most a registry's JSON answer (an error, a token, tags, the catalog) may hold. */
const maxJsonBytes = 4 << 20;

/**
 * Silence allowed after a blob's last byte was sent, while the registry checks its digest and moves it into
 * place (a registry that hashes the blob again takes seconds per GB): fetch's default, which pushes used before.
 */
const uploadAnswerTimeoutMs = 300_000;

const isOk = (answer: HttpAnswer) => answer.status >= 200 && answer.status < 300;

/** Reads what is left of a small answer, so that its connection carries the next request (else it is closed). */
const finish = (answer: HttpAnswer) => readBodyBytes(answer, 1 << 16).then(noop, noop);
const noop = () => undefined;

/**
 * One registry's Distribution API v2: the auth handshake (anonymous, then Basic or a bearer token per scope),
 * manifests, blob existence, uploads (with cross-repository mounts), the catalog and tags. Requests go over
 * net/'s kept-alive sockets (undici's fetch cost ~0.1 s of start-up per command and a copy of every upload
 * chunk); network errors, 429 and 5xx are retried as every gpux request is.
 */
export class OciClient {
  readonly origin: string;
  readonly host: string;
  private credentials?: Credentials | null;
  private readonly env: NodeJS.ProcessEnv;
  /** Authorization header per scope ("" for Basic, which fits every scope). */
  private readonly authorization = new Map<string, string>();
  /**
   * The first request of each scope: requests of that scope sent meanwhile wait for it, so that one 401 and one
   * token request serve the blobs a push checks at once (skopeo pings /v2/ first for the same reason).
   */
  private readonly firstRequests = new Map<string, Promise<unknown>>();

  constructor(options: OciClientOptions) {
    this.host = options.host;
    this.env = options.env ?? process.env;
    const scheme = options.plainHttp || isLoopbackHost(options.host) ? "http" : "https";
    this.origin = `${scheme}://${options.host}`;
    this.credentials = options.credentials;
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

  /**
   * One request with retries: network errors, 429 and 5xx are tried again with backoff (or after the wait a
   * Retry-After asks for); the last answer is returned, a network error that outlasts the retries becomes
   * "cannot reach the registry".
   */
  private async send(
    method: string,
    url: URL,
    options: Pick<RequestOptions, "headers" | "body" | "idleTimeoutMs">,
  ): Promise<HttpAnswer> {
    // read before the loop: a bad setting is the user's error, not an unreachable registry
    const attempts = hubAttempts();
    const backoffMs = hubBackoffMs();
    const idleTimeoutMs = options.idleTimeoutMs ?? envSettings.downloadIdleTimeoutMs(this.env);
    try {
      return await withRetries(
        async ({ last }) => {
          const answer = await httpRequest(url, {
            method,
            headers: options.headers,
            body: options.body,
            idleTimeoutMs,
          });
          if (!isRetryableStatus(answer.status) || last) return answer;
          answer.discard();
          throw new RetryableAnswer(answer.status, answer.headers["retry-after"]);
        },
        {
          attempts,
          backoffMs,
          isFinal: (error) => error instanceof GpuxError,
          onRetry: (error, failures) =>
            log.debug(`${(error as Error).message} for ${method} ${url.href}, retry ${failures}`),
        },
      );
    } catch (error) {
      if (error instanceof GpuxError) throw error;
      throw unreachableRegistry(this.origin, error);
    }
  }

  /** A request with the auth handshake: anonymous first, then what the 401's challenge asks for. */
  async request(method: string, pathOrUrl: string, options: RequestOptions): Promise<HttpAnswer> {
    const scope = options.scope ?? "*";
    const first = this.firstRequests.get(scope);
    if (first) await first.catch(noop);
    else if (!this.headerFor(options.scope)) {
      const answer = this.authorizedRequest(method, pathOrUrl, options);
      this.firstRequests.set(scope, answer);
      return answer;
    }
    return this.authorizedRequest(method, pathOrUrl, options);
  }

  private async authorizedRequest(
    method: string,
    pathOrUrl: string,
    options: RequestOptions,
  ): Promise<HttpAnswer> {
    const url = new URL(pathOrUrl, this.origin);
    const send = (authorization: string | undefined) =>
      this.send(method, url, {
        ...options,
        headers: { ...options.headers, ...(authorization ? { authorization } : {}) },
      });
    let answer = await send(this.headerFor(options.scope));
    if (answer.status === 401) {
      const challenge = parseChallenge(answer.headers["www-authenticate"] ?? "");
      await finish(answer);
      const credentials = await this.savedCredentials();
      let header: string | undefined;
      if (challenge?.scheme === "basic" && credentials) {
        header = basicHeader(credentials);
        this.authorization.set("", header);
      } else if (challenge?.scheme === "bearer") {
        const token = await fetchBearerToken(
          challenge,
          options.scope,
          credentials,
          async (tokenUrl, headers) => {
            const tokenAnswer = await this.send("GET", tokenUrl, { headers });
            if (!isOk(tokenAnswer)) {
              await finish(tokenAnswer);
              return { status: tokenAnswer.status };
            }
            return { status: tokenAnswer.status, body: await readBodyBytes(tokenAnswer, maxJsonBytes) };
          },
        );
        if (!token.token)
          throw registryHttpError(token.status, options.what, this.host, "", Boolean(credentials));
        header = `Bearer ${token.token}`;
        this.authorization.set(options.scope ?? "*", header);
      }
      if (!header) throw registryHttpError(401, options.what, this.host, "", Boolean(credentials));
      answer = await send(header);
      if (answer.status === 401) {
        await finish(answer);
        throw registryHttpError(401, options.what, this.host, "", Boolean(credentials));
      }
    }
    if (!isOk(answer) && !options.accept?.includes(answer.status)) {
      const detail = await readBodyBytes(answer, maxJsonBytes).catch(() => undefined);
      throw registryHttpError(
        answer.status,
        options.what,
        this.host,
        registryErrorDetail(detail?.toString("utf8") ?? ""),
        Boolean(this.credentials),
      );
    }
    return answer;
  }

  /** A small JSON answer's body, parsed; `{}` when it is not JSON. */
  private async json(answer: HttpAnswer): Promise<Record<string, unknown>> {
    const bytes = await readBodyBytes(answer, maxJsonBytes);
    try {
      return JSON.parse(bytes?.toString("utf8") ?? "") as Record<string, unknown>;
    } catch {
      return {};
    }
  }

  /** `GET /v2/`: the registry is there and takes these credentials (what `gpux login` checks). */
  async ping(): Promise<void> {
    await finish(await this.request("GET", "/v2/", { what: "the API root /v2/" }));
  }

  /** A manifest (or index) by tag or digest, its digest checked when the reference pins one. */
  async getManifest(repository: string, reference: string): Promise<FetchedManifest> {
    const answer = await this.request("GET", `/v2/${repository}/manifests/${reference}`, {
      scope: `repository:${repository}:pull`,
      headers: { accept: acceptedManifests.join(", ") },
      what: `the manifest ${repository}${reference.startsWith("sha256:") ? "@" : ":"}${reference}`,
    });
    const bytes = await readBodyBytes(answer, 4 << 20);
    if (!bytes) {
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
    const mediaType = (answer.headers["content-type"] ?? "").split(";")[0]?.trim() ?? "";
    return { bytes, mediaType, digest };
  }

  async putManifest(repository: string, tag: string, bytes: Buffer, mediaType: string): Promise<string> {
    const answer = await this.request("PUT", `/v2/${repository}/manifests/${tag}`, {
      scope: `repository:${repository}:pull,push`,
      headers: { "content-type": mediaType },
      body: bytes,
      what: `the manifest ${repository}:${tag}`,
    });
    await finish(answer);
    return sha256Of(bytes);
  }

  /** True when the repository already has the blob (HEAD). */
  async hasBlob(
    repository: string,
    digest: string,
    scope = `repository:${repository}:pull,push`,
  ): Promise<boolean> {
    const answer = await this.request("HEAD", `/v2/${repository}/blobs/${digest}`, {
      scope,
      what: `blob ${digest} of ${repository}`,
      accept: [404],
    });
    await finish(answer);
    return isOk(answer);
  }

  /**
   * Upload a blob from a file (or bytes): first a cross-repository mount when `mountFrom` names a repository of
   * the same registry holding it, else one upload session finished with a single PUT streamed from the file
   * (the spec's monolithic upload: two round trips, where a POST, PATCH, PUT upload takes three). Returns
   * "mounted" when it was mounted.
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
    await finish(started);
    if (started.status === 201) return "mounted";
    const location = started.headers.location;
    if (!location) {
      throw new RuntimeFailure(`${this.host} started an upload to ${repository} without a Location.`, {
        hint: "The registry does not follow the distribution spec; ask its operators.",
      });
    }
    const target = new URL(location, this.origin);
    target.searchParams.set("digest", blob.digest);
    const body: RequestBody = blob.bytes ?? {
      file: blob.file as string,
      size: blob.size,
      onBytes: options.onBytes,
    };
    const finished = await this.request("PUT", target.href, {
      scope,
      headers: { "content-type": "application/octet-stream" },
      body,
      idleTimeoutMs: uploadAnswerTimeoutMs,
      what: `blob ${blob.digest} of ${repository}`,
    });
    await finish(finished);
    const stored = finished.headers["docker-content-digest"];
    if (stored && stored !== blob.digest) {
      throw new RuntimeFailure(`${this.host} stored blob ${blob.digest} as ${stored}.`, {
        hint: "The file changed while it was uploaded, or the registry altered it; push again.",
      });
    }
    return "uploaded";
  }

  /** `GET /v2/_catalog`: repositories, or undefined when the registry does not list them. */
  async catalog(limit = 100): Promise<string[] | undefined> {
    const answer = await this.request("GET", `/v2/_catalog?n=${limit}`, {
      scope: "registry:catalog:*",
      what: "the catalog",
      accept: [401, 403, 404, 405],
    });
    if (!isOk(answer)) {
      await finish(answer);
      return undefined;
    }
    const { repositories } = await this.json(answer);
    return Array.isArray(repositories) ? repositories.filter((r) => typeof r === "string") : [];
  }

  async tags(repository: string): Promise<string[]> {
    const answer = await this.request("GET", `/v2/${repository}/tags/list`, {
      scope: `repository:${repository}:pull`,
      what: `the tags of ${repository}`,
    });
    const { tags } = await this.json(answer);
    return Array.isArray(tags) ? tags.filter((t) => typeof t === "string") : [];
  }
}

/** A registry answer that is not what the spec says (a manifest that does not parse …). */
export const malformed = (what: string, host: string) =>
  new UserError(`${host} answered ${what} gpux cannot read.`, {
    hint: "Check the reference: it should name a ModelPack artifact or a modelcar image.",
  });
