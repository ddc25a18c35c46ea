/** The faults a test can set on the fake hub (fake-hub.ts), and the body writer that applies them. */
import type { ServerResponse } from "node:http";

export interface Faults {
  /** Serve file bodies at this rate, in chunks of `chunkSize` (default 16 KiB). */
  throttle?: { bytesPerSecond: number; chunkSize?: number };
  /** Cut the connection after `bytes` of a response for `file` (repo path), `times` times (default 1). */
  dropAfter?: { file: string; bytes: number; times?: number };
  /** Send `bytes` of the next response for `file`, then hold the connection open sending nothing (once). */
  stallAfter?: { file: string; bytes: number };
  /** Flip the byte at `offset` of `file` in the next `times` responses (default 1). */
  corrupt?: { file: string; offset: number; times?: number };
  /**
   * Answer the next `times` requests whose path includes `pathIncludes` (default all) with this status, and a
   * Retry-After header when `retryAfter` is set.
   */
  fail?: { status: number; times: number; html?: boolean; pathIncludes?: string; retryAfter?: string };
  /** Answer API requests with a 200 HTML page (a captive portal, a wrong HF_ENDPOINT). */
  htmlApi?: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Writes `body` (bytes from `start` of repo file `file`) to `res` as the faults set for that file say: throttled,
 * cut after some bytes, stalled, or with a byte flipped. One-shot faults are cleared once used. `count` hears
 * every byte count written.
 */
export async function sendWithFaults(
  res: ServerResponse,
  faults: Faults,
  { file, body, start }: { file: string; body: Buffer; start: number },
  count: (bytes: number) => void,
): Promise<void> {
  let data = body;
  const corrupt = faults.corrupt;
  if (corrupt?.file === file && corrupt.offset >= start && corrupt.offset < start + body.length) {
    data = Buffer.from(body);
    data[corrupt.offset - start] = (data[corrupt.offset - start] as number) ^ 0xff;
    corrupt.times = (corrupt.times ?? 1) - 1;
    if (corrupt.times <= 0) faults.corrupt = undefined;
  }
  const drop = faults.dropAfter?.file === file ? faults.dropAfter : undefined;
  if (drop) {
    drop.times = (drop.times ?? 1) - 1;
    if (drop.times <= 0) faults.dropAfter = undefined;
  }
  const stall = faults.stallAfter?.file === file ? faults.stallAfter : undefined;
  if (stall) faults.stallAfter = undefined;
  const throttle = faults.throttle;
  if (!drop && !throttle && !stall) {
    count(data.length);
    res.end(data);
    return;
  }
  const chunk = throttle?.chunkSize ?? 16 * 1024;
  for (let offset = 0; offset < data.length && !res.destroyed; offset += chunk) {
    let piece = data.subarray(offset, offset + chunk);
    if (drop && offset + piece.length >= drop.bytes) {
      piece = piece.subarray(0, Math.max(0, drop.bytes - offset));
      count(piece.length);
      res.write(piece, () => res.socket?.destroy());
      return;
    }
    if (stall && offset + piece.length >= stall.bytes) {
      piece = piece.subarray(0, Math.max(0, stall.bytes - offset));
      count(piece.length);
      res.write(piece);
      await new Promise((resolve) => res.once("close", resolve));
      return;
    }
    count(piece.length);
    if (!res.write(piece)) await new Promise((resolve) => res.once("drain", resolve));
    if (throttle) await sleep((piece.length / throttle.bytesPerSecond) * 1000);
  }
  res.end();
}
