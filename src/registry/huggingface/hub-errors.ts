import { describeProxy, proxyAuthRequired, proxyFor } from "../../net/proxy-settings.js";
import { type GpuxError, NotFoundError, RuntimeFailure, UserError } from "../../util/errors.js";

/** Access refused by the Hub (private or gated repo). Exit 1, HTTP 403. */
export class HubAccessError extends UserError {
  override readonly httpStatus = 403;
}

/** An HTTP error answer from the Hub → a gpux error naming the repo and the fix. */
export function hubHttpError(
  status: number,
  context: {
    repoId: string;
    revision?: string;
    endpoint: string;
    file?: string;
    hasToken: boolean;
    errorCode?: string;
  },
): GpuxError {
  const what = context.file ? `'${context.file}' of '${context.repoId}'` : `'${context.repoId}'`;
  const page = `${context.endpoint}/${context.repoId}`;
  if (status === 401 || status === 403) {
    const gated = context.errorCode === "GatedRepo" || status === 403;
    return new HubAccessError(
      `The Hub refused access to ${what} (HTTP ${status}): it is private or gated${context.hasToken ? ", and this token may not read it" : ", and no token was given"}.`,
      {
        hint: gated
          ? `Accept the model's terms at ${page} with your account, then pass --token or set HF_TOKEN.`
          : `Pass --token, set HF_TOKEN, or run \`hf auth login\`; check the id at ${page}.`,
      },
    );
  }
  if (status === 404) {
    const revisionMissing = context.errorCode === "RevisionNotFound";
    return new NotFoundError(
      revisionMissing
        ? `Revision '${context.revision}' of '${context.repoId}' does not exist on ${context.endpoint} (HTTP 404).`
        : context.file
          ? `File ${what} is not on ${context.endpoint} (HTTP 404).`
          : `No such model '${context.repoId}' on ${context.endpoint} (HTTP 404).`,
      {
        hint: revisionMissing
          ? "Check the branch, tag or commit; `main` is the default."
          : "Check the id (org/name); for a private model pass --token.",
      },
    );
  }
  if (status === 429) {
    return new RuntimeFailure(
      `The Hub at ${context.endpoint} rate-limited the requests for ${what} (HTTP 429), and kept doing so after every retry.`,
      {
        hint: `Try again later: a new pull resumes where this one stopped${context.hasToken ? "" : "; requests with a token (--token or HF_TOKEN) get higher limits"}. GPUX_HUB_RETRIES sets the attempts.`,
      },
    );
  }
  return new RuntimeFailure(`The Hub at ${context.endpoint} answered HTTP ${status} for ${what}.`, {
    hint: "The Hub or the mirror in HF_ENDPOINT is failing; try again later.",
  });
}

/** True when fetch failed because the proxy wants credentials (undici: "Proxy response (407) …"). */
export function isProxyAuthFailure(error: unknown): boolean {
  const cause = (error as Error)?.cause ?? error;
  return /\bProxy response \(407\)/.test(String((cause as Error)?.message ?? ""));
}

/** The Hub could not be reached at all, after retries (or at once when the proxy wants credentials). */
export function hubUnreachable(endpoint: string, cause: unknown): GpuxError {
  let proxy: URL | undefined;
  try {
    proxy = proxyFor(new URL(endpoint));
  } catch {
    proxy = undefined;
  }
  const via = proxy ? ` through the proxy ${describeProxy(proxy)}` : "";
  if (proxy && isProxyAuthFailure(cause)) return proxyAuthRequired(proxy, cause);
  return new RuntimeFailure(
    `Cannot reach the Hub at ${endpoint}${via}: ${(cause as Error)?.message ?? cause}.`,
    {
      hint: proxy
        ? "Check the proxy (HTTPS_PROXY / HTTP_PROXY, NO_PROXY for hosts to reach directly) and HF_ENDPOINT; use --offline for models already in the cache."
        : "Check the network or HF_ENDPOINT; use --offline (HF_HUB_OFFLINE=1) for models already in the cache.",
      cause,
    },
  );
}
