import { createFetchWithRetries } from "../../net/fetch-with-retries.js";
import { RuntimeFailure } from "../../util/errors.js";
import { urlHttpError, urlUnreachable } from "./url-errors.js";

/** What a server says about a file before it is downloaded. */
export interface ProbedFile {
  size: number;
  /** ETag or Last-Modified, when the server sends one: a change means new content. */
  version?: string;
}

/**
 * Ask for the first byte of `url` (a GET with `Range: bytes=0-0`, which servers that refuse HEAD on signed
 * URLs still answer): the size comes from Content-Range, or Content-Length when the range is ignored. The
 * download needs the size to resume and to refuse a server that sends more.
 */
export async function probeUrl(url: string, label: string, token?: string): Promise<ProbedFile> {
  const fetchUrl = createFetchWithRetries({
    tokenOrigin: url,
    token,
    unreachable: (cause) => urlUnreachable(label, cause),
  });
  const response = await fetchUrl(url, { headers: { range: "bytes=0-0", "accept-encoding": "identity" } });
  await response.body?.cancel();
  if (!response.ok) throw urlHttpError(response.status, label, token !== undefined);
  const total = /\/(\d+)\s*$/.exec(response.headers.get("content-range") ?? "")?.[1];
  const length = response.status === 206 ? total : (response.headers.get("content-length") ?? undefined);
  const size = length === undefined ? Number.NaN : Number(length);
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new RuntimeFailure(`${label} did not say how large it is (no Content-Length or Content-Range).`, {
      hint: "gpux needs the size to resume and verify a download: fetch the file yourself, then `gpux pull ./file.onnx --name NAME`.",
    });
  }
  const version = response.headers.get("etag") ?? response.headers.get("last-modified") ?? undefined;
  return { size, version };
}
