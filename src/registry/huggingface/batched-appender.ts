import { writeSync } from "node:fs";

/** Small received chunks (TLS records are 16 KiB) are gathered into writes of this many bytes. */
const batchBytes = 1 << 20;
/** A chunk at least this large is written as it is, without a copy. */
const directBytes = batchBytes / 4;
/** A partial batch is written after this long without more data: a stalled, then killed, pull loses nothing. */
const idleFlushMs = 20;

/**
 * Appends received chunks to an open file with synchronous writes in ~1 MiB batches. Synchronous on purpose:
 * measured on a 250 MB download, writes queued to the thread pool made the socket wait on the disk queue and
 * took longer than writing each batch in place (a page-cache copy of about a millisecond).
 */
export class BatchedAppender {
  private readonly batch = Buffer.allocUnsafe(batchBytes);
  private filled = 0;
  private readonly idle: NodeJS.Timeout;
  /** A write that failed in the idle timer, thrown by the next call. */
  private failure?: Error;

  constructor(private readonly fd: number) {
    this.idle = setTimeout(() => {
      try {
        this.flush();
      } catch (error) {
        this.failure = error as Error;
      }
    }, idleFlushMs);
    this.idle.unref();
  }

  /** Writes or copies `chunk`; the caller may reuse it as soon as this returns. */
  add(chunk: Uint8Array): void {
    if (this.failure) throw this.failure;
    if (this.filled === 0 && chunk.length >= directBytes) {
      this.writeAll(chunk);
      return;
    }
    for (let at = 0; at < chunk.length; ) {
      const take = Math.min(chunk.length - at, batchBytes - this.filled);
      this.batch.set(chunk.subarray(at, at + take), this.filled);
      this.filled += take;
      at += take;
      if (this.filled === batchBytes) this.flush();
    }
    if (this.filled > 0) this.idle.refresh();
  }

  /** Writes what is left and throws the first write error, if any; the appender is done. */
  close(): void {
    clearTimeout(this.idle);
    if (this.failure) throw this.failure;
    this.flush();
  }

  private flush(): void {
    if (this.filled === 0) return;
    const filled = this.filled;
    this.filled = 0;
    this.writeAll(this.batch.subarray(0, filled));
  }

  private writeAll(data: Uint8Array): void {
    for (let at = 0; at < data.length; ) at += writeSync(this.fd, data, at);
  }
}
