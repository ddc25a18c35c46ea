import { type HttpAnswer, httpRequest, type RequestBody, readBodyBytes } from "../../net/http-request.js";
import {
  hubAttempts,
  hubBackoffMs,
  isRetryableStatus,
  RetryableAnswer,
  withRetries,
} from "../../net/retry.js";
import { GpuxError } from "../../util/errors.js";
import { log } from "../../util/log.js";
import { envSettings } from "../../util/settings.js";
import { type Credentials, readCredentials } from "./docker-config.js";
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

/** The most a registry's JSON answer (an error, a token, tags, the catalog) may hold. */
export const maxJsonBytes = 4 << 20;

export const isOk = (answer: HttpAnswer) => answer.status >= 200 && answer.status < 300;

/** Reads what is left of a small answer, so that its connection carries the next request (else it is closed). */
export const finish = (answer: HttpAnswer) => readBodyBytes(answer, 1 << 16).then(noop, noop);
const noop = () => undefined;

/**
 * The requests to one registry: the auth handshake (anonymous, then Basic or a bearer token per scope) and
 * retries (network errors, 429 and 5xx, as every gpux request). Requests go over net/'s kept-alive sockets:
 * undici's fetch cost ~0.1 s of start-up per command and a copy of every upload chunk.
 */
export class OciSession {
  readonly origin: string;
  readonly host: string;
  protected credentials?: Credentials | null;
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
}
