import { NotFoundError, RuntimeFailure, UserError } from "../../util/errors.js";

/** A web server's refusal of `url`, with what to do next. */
export function urlHttpError(status: number, url: string, hasToken: boolean): Error {
  if (status === 404 || status === 410) {
    return new NotFoundError(`${url} does not exist (HTTP ${status}).`, {
      hint: "Check the URL: it must name the .onnx file itself (or, with --include, a file beside it).",
    });
  }
  if (status === 401 || status === 403) {
    return new UserError(`${url} refused access (HTTP ${status}).`, {
      hint: hasToken
        ? "The server refused the --token given; check it may read this file."
        : "Pass --token (sent as a bearer token to this host only), or use a URL that carries its own access (a signed URL).",
    });
  }
  if (status === 429) {
    return new RuntimeFailure(`${url} rate-limited the download (HTTP 429), after every retry.`, {
      hint: "Try again later: the pull resumes where it stopped. GPUX_HUB_RETRIES sets the attempts.",
    });
  }
  return new RuntimeFailure(`${url} answered HTTP ${status}.`, {
    hint: "The server is failing; try again later (the pull resumes where it stopped).",
  });
}

/** A server that reached but could not be talked to (refused connection, DNS, TLS). */
export function urlUnreachable(url: string, cause: unknown): Error {
  const detail = (cause as Error | undefined)?.message ?? String(cause);
  return new RuntimeFailure(`Could not reach ${url} (${detail}).`, {
    hint: "Check the URL and the network (HTTPS_PROXY / NO_PROXY if a proxy is needed).",
    cause,
  });
}

/** The model's content is not what --sha256 says; the caller has deleted what it wrote. */
export function digestMismatch(label: string, got: string, wanted: string): UserError {
  return new UserError(`${label} has sha256 ${got}, not the ${wanted} given with --sha256.`, {
    hint: "Either the digest is wrong or the file is not the one published; nothing was registered. Check the digest where the model is published (sha256sum prints a file's).",
  });
}

/** A local file or folder that is not there (`file` when a model names it). */
export function localMissing(label: string, file?: string): NotFoundError {
  return new NotFoundError(
    file ? `${file} (named by ${label}) does not exist.` : `${label} does not exist.`,
    {
      hint: "Check the path; a local pull copies a .onnx file (with its external data) or a model folder.",
    },
  );
}
