import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, rename, rm, stat, truncate } from "node:fs/promises";
import { dirname } from "node:path";
import { GpuxError, RuntimeFailure } from "../util/errors.js";
import { log } from "../util/log.js";
import { BatchedAppender } from "./batched-appender.js";
import { type HttpGetOptions, httpGet } from "./http-request.js";
import { hubAttempts, hubBackoffMs, isRetryableStatus, RetryableAnswer, withRetries } from "./retry.js";

export interface ExpectedContent {
  size: number;
  /** LFS sha256 (hex) the content must hash to. */
  sha256?: string;
  /** Git blob sha1 the content must hash to (non-LFS files). */
  gitOid?: string;
}

export interface DownloadBlobOptions {
  url: string;
  /** Final blob path; the partial file is `<dest>.incomplete`, as huggingface_hub names it. */
  dest: string;
  expected: ExpectedContent;
  /** Token for the registry's own origin (never sent to a redirect target elsewhere). */
  auth?: Pick<HttpGetOptions, "token" | "tokenOrigin" | "authorization">;
  /** Called with the bytes written so far (resumed bytes included). */
  onBytes?: (done: number) => void;
  /** For messages. */
  label: string;
  /** Attempts without progress before giving up. Default 4 (GPUX_HUB_RETRIES). */
  attempts?: number;
  /** First backoff delay in ms, doubled each retry. Default 300 (GPUX_HUB_BACKOFF_MS). */
  backoffMs?: number;
  /** Cap on the wait a Retry-After header (on a 429 or 5xx) may ask for, in ms. Default 60 000. */
  maxRetryAfterMs?: number;
  /** Maps a non-OK answer to a gpux error. */
  httpError: (status: number, errorCode?: string) => Error;
}

/** sha256 always (it is recorded in the manifest); the git blob sha1 only when it is what gets checked. */
class Digests {
  sha256: Hash = createHash("sha256");
  sha1?: Hash;
  constructor(size: number, gitOid: boolean) {
    if (gitOid) this.sha1 = createHash("sha1").update(`blob ${size}\0`);
  }
  update(chunk: Uint8Array): void {
    this.sha256.update(chunk);
    this.sha1?.update(chunk);
  }
}

const needsOid = (expected: ExpectedContent) =>
  expected.sha256 === undefined && expected.gitOid !== undefined;

async function hashFile(path: string, digests: Digests): Promise<Digests> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }))
    digests.update(chunk as Buffer);
  return digests;
}

/** sha256 and git oid of a complete file, checked against what the registry declared. */
export async function verifyFile(
  path: string,
  expected: ExpectedContent,
): Promise<{ sha256: string; ok: boolean }> {
  const size = (await stat(path)).size;
  const digests = await hashFile(path, new Digests(size, needsOid(expected)));
  const sha256 = digests.sha256.digest("hex");
  const ok =
    size === expected.size &&
    (expected.sha256 === undefined || expected.sha256 === sha256) &&
    (!digests.sha1 || expected.gitOid === digests.sha1.digest("hex"));
  return { sha256, ok };
}

/**
 * Download one file into the cache: resume a partial `.incomplete` file with an HTTP Range request (after a
 * dropped connection or a killed process), refuse more bytes than declared, verify sha256 (LFS) or the git
 * oid, and rename into place only when verified. A corrupt download is deleted and fetched once more.
 * Returns the sha256 and the bytes transferred.
 */
export async function downloadBlob(
  options: DownloadBlobOptions,
): Promise<{ sha256: string; fetched: number }> {
  const { expected, dest } = options;
  const partial = `${dest}.incomplete`;
  const maxAttempts = options.attempts ?? hubAttempts();
  const backoffMs = options.backoffMs ?? hubBackoffMs();
  await mkdir(dirname(dest), { recursive: true });
  let fetched = 0;
  for (let fullTry = 1; ; fullTry++) {
    let offset = (await stat(partial).catch(() => undefined))?.size ?? 0;
    if (offset > expected.size) {
      await rm(partial, { force: true });
      offset = 0;
    }
    const fresh = () => new Digests(expected.size, needsOid(expected));
    let digests = offset > 0 ? await hashFile(partial, fresh()) : fresh();
    if (offset > 0) log.debug(`${options.label}: resuming at byte ${offset}`);
    let before = offset;
    const fetchRest = async ({ last }: { last: boolean }) => {
      before = offset;
      const headers: Record<string, string> = { "accept-encoding": "identity" };
      if (offset > 0) headers.range = `bytes=${offset}-`;
      const answer = await httpGet(options.url, { headers, ...options.auth });
      const status = answer.status;
      if (status === 416) {
        answer.discard();
        throw new RuntimeFailure(
          `The server has only ${offset} bytes of ${options.label}, but declared ${expected.size}.`,
          { hint: "The repo listing and the file disagree (a broken mirror?); nothing was registered." },
        );
      }
      if (status < 200 || status >= 300) {
        answer.discard();
        if (isRetryableStatus(status) && !last)
          throw new RetryableAnswer(status, answer.headers["retry-after"]);
        throw options.httpError(status, answer.headers["x-error-code"] || undefined);
      }
      if (offset > 0 && status !== 206) {
        // The server ignored the range: start over rather than append the file twice.
        await truncate(partial, 0);
        offset = 0;
        digests = fresh();
      }
      const file = await open(partial, "a");
      // `offset` counts bytes received; after the writes are done it becomes what is on disk, so a resume
      // after any failure never skips bytes.
      const appender = new BatchedAppender(file.fd);
      try {
        await answer.readBody((chunk) => {
          if (offset + chunk.length > expected.size) {
            throw new RuntimeFailure(
              `The server sent more than the ${expected.size} bytes it declared for ${options.label}.`,
              {
                hint: "The repo listing and the file disagree (a broken mirror?); nothing was registered.",
              },
            );
          }
          digests.update(chunk);
          offset += chunk.length;
          fetched += chunk.length;
          options.onBytes?.(offset);
          appender.add(chunk);
        });
      } finally {
        try {
          appender.close();
        } catch {
          // what reached the disk is measured below; the download resumes from there
        }
        await file.close();
        const onDisk = (await stat(partial)).size;
        if (onDisk !== offset) {
          offset = onDisk;
          digests = await hashFile(partial, fresh());
        }
      }
      if (offset < expected.size) throw new Error(`connection ended at byte ${offset} of ${expected.size}`);
    };
    if (offset < expected.size) {
      try {
        await withRetries(fetchRest, {
          attempts: maxAttempts,
          backoffMs,
          maxRetryAfterMs: options.maxRetryAfterMs,
          // Retrying cannot free disk space, and the connection is not at fault.
          isFinal: (error) => error instanceof GpuxError || !(error instanceof Error) || isDiskFull(error),
          progressed: () => offset > before,
          onRetry: (error) =>
            log.debug(`${options.label}: ${(error as Error).message}; resuming at byte ${offset}`),
        });
      } catch (error) {
        if (error instanceof GpuxError || !(error instanceof Error)) throw error;
        if (isDiskFull(error)) {
          const quota = (error as NodeJS.ErrnoException).code === "EDQUOT" ? " (quota exceeded)" : "";
          throw new RuntimeFailure(
            `Downloading ${options.label} stopped at byte ${offset} of ${expected.size}: the disk holding ${dirname(partial)} is full${quota}.`,
            {
              hint: "Free disk space there (or point HF_HUB_CACHE / GPUX_HOME at a larger disk), then pull again: it resumes.",
              cause: error,
            },
          );
        }
        throw new RuntimeFailure(`Downloading ${options.label} failed: ${error.message}.`, {
          hint: "Run the same pull again: it resumes where it stopped.",
          cause: error,
        });
      }
    }
    const sha256 = digests.sha256.digest("hex");
    const oid = digests.sha1?.digest("hex");
    const good = expected.sha256 !== undefined ? sha256 === expected.sha256 : !oid || oid === expected.gitOid;
    if (good) {
      await rename(partial, dest);
      return { sha256, fetched };
    }
    await rm(partial, { force: true });
    const detail =
      expected.sha256 !== undefined
        ? `sha256 ${sha256}, expected ${expected.sha256}`
        : `git oid ${oid}, expected ${expected.gitOid}`;
    if (fullTry >= 2) {
      throw new RuntimeFailure(`${options.label} is corrupt after two downloads (${detail}).`, {
        hint: "The server or a proxy is altering the file; nothing was registered. Try again later.",
      });
    }
    log.warn(`${options.label} failed verification (${detail}); fetching it again`);
  }
}

/** No space left (or the user's quota spent) on the disk being written. */
function isDiskFull(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOSPC" || code === "EDQUOT";
}
