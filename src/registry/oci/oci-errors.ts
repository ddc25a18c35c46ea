import { NotFoundError, RuntimeFailure, UserError } from "../../util/errors.js";

/** What the registry said in its error body (`{"errors":[{"code","message"}]}`), for the message. */
export function registryErrorDetail(text: string): string {
  try {
    const errors = (JSON.parse(text) as { errors?: Array<{ code?: string; message?: string }> }).errors ?? [];
    const first = errors[0];
    if (first) return `: ${[first.code, first.message].filter(Boolean).join(" ")}`;
  } catch {
    // not JSON: no detail
  }
  return "";
}

/**
 * A registry's refusal, with what to do next: 401 (log in), 403 (the account lacks the right), 404 (check the
 * name), 429 (wait), anything else (the registry failed).
 */
export function registryHttpError(
  status: number,
  what: string,
  host: string,
  detail = "",
  hadCredentials = false,
): Error {
  if (status === 401) {
    return new UserError(`${host} wants credentials for ${what} (HTTP 401${detail}).`, {
      hint: hadCredentials
        ? `The saved credentials were refused: run \`gpux login ${host}\` again.`
        : `Run \`gpux login ${host}\` (credentials go to Docker's config.json, DOCKER_CONFIG to move it).`,
    });
  }
  if (status === 403) {
    return new UserError(`${host} denied access to ${what} (HTTP 403${detail}).`, {
      hint: `Check that the account you logged in with (\`gpux login ${host}\`) may read or write this repository.`,
    });
  }
  if (status === 404) {
    return new NotFoundError(`${host} has no ${what} (HTTP 404${detail}).`, {
      hint: "Check the repository and tag (`skopeo list-tags docker://HOST/REPO` lists the tags).",
    });
  }
  if (status === 429) {
    return new RuntimeFailure(`${host} rate-limited the requests for ${what} (HTTP 429${detail}).`, {
      hint: "Try again later; logging in (`gpux login`) often raises the limit. A new pull resumes.",
    });
  }
  return new RuntimeFailure(`${host} answered HTTP ${status} for ${what}${detail}.`, {
    hint: "The registry failed; try again later (a new pull or push resumes where this one stopped).",
  });
}

export function unreachableRegistry(origin: string, cause: unknown): RuntimeFailure {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new RuntimeFailure(`Cannot reach the registry at ${origin}: ${reason}.`, {
    hint: origin.startsWith("https:")
      ? "Check the host and port; for a registry that speaks plain HTTP, add --plain-http."
      : "Check the host and port, and that the registry is running.",
    cause,
  });
}
