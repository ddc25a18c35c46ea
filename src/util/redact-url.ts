/**
 * `scheme://user:password@` inside any text: credentials someone put in a URL (HF_ENDPOINT, a proxy). `<` and
 * `>` cannot stand unescaped in a URL, so a placeholder such as `http://<user>:<password>@host` in gpux's own
 * hints is left as it is.
 */
const userinfo = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@<>]+@/gi;

/** The text with the user:password part of every URL replaced by `***`, for anything printed or logged. */
export function redactUrls(text: string): string {
  return text.replace(userinfo, "$1***@");
}
