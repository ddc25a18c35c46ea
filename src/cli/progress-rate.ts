import { formatBytes } from "./format-bytes.js";

/**
 * Rate and ETA of a download, from the bytes moved in this run only. A resumed file reports its bytes with
 * what was already on disk, and a cached file reports its whole size at once; counting those made a resumed
 * pull show 87 MB/s and "ETA 1 s" while it moved 15 MB/s. So the first count seen for each file is its
 * baseline, and only what it gains afterwards is moved (a fresh file's first chunk is left out: one chunk).
 */
export class TransferRate {
  private readonly baseline = new Map<string, number>();
  private readonly latest = new Map<string, number>();
  private started: number | undefined;

  /** Record a file's byte count (what is on disk so far, resumed bytes included). */
  update(file: string, bytes: number): void {
    this.started ??= Date.now();
    if (!this.baseline.has(file)) this.baseline.set(file, bytes);
    this.latest.set(file, bytes);
  }

  /** Bytes moved in this run. */
  moved(): number {
    let sum = 0;
    for (const [file, bytes] of this.latest) sum += bytes - (this.baseline.get(file) ?? bytes);
    return sum;
  }

  /**
   * Bytes per second moved in this run; undefined in the first half second (a rate that means nothing yet)
   * unless the transfer is `finished`.
   */
  bytesPerSecond(finished = false, now = Date.now()): number | undefined {
    if (this.started === undefined) return undefined;
    const seconds = Math.max(0.001, (now - this.started) / 1000);
    return seconds >= 0.5 || finished ? this.moved() / seconds : undefined;
  }

  /** "3.1 MB/s, ETA 5 s" for `remaining` bytes, or "" before a rate is known. */
  describe(remaining: number, now = Date.now()): string {
    const rate = this.bytesPerSecond(remaining <= 0, now);
    if (rate === undefined) return "";
    if (remaining <= 0) return `${formatBytes(rate)}/s`;
    const eta = rate > 0 ? `ETA ${formatDuration(remaining / rate)}` : "ETA -";
    return `${formatBytes(rate)}/s, ${eta}`;
  }
}

/** 42 s, 3 min 05 s, 2 h 10 min. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}
