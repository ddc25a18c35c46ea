/**
 * Events handed from the loop that makes them to the one request that reads them: pushed at the loop's pace,
 * read at the reader's (a slow client only grows its own buffer of small events). The reader leaving early
 * sets `cancelled`, which the producer checks to stop working for it.
 */
export class EventChannel<T> {
  private readonly buffered: T[] = [];
  private wake: (() => void) | undefined;
  private closed = false;
  private failure: { error: unknown } | undefined;
  private readerGone = false;

  get cancelled(): boolean {
    return this.readerGone;
  }

  push(items: readonly T[]): void {
    this.buffered.push(...items);
    this.notify();
  }

  close(): void {
    this.closed = true;
    this.notify();
  }

  /** End the stream with an error, thrown to the reader after what was already pushed. */
  fail(error: unknown): void {
    this.failure = { error };
    this.close();
  }

  /** Read until closed; leaving the loop early (break, return, a throw) marks the channel cancelled. */
  async *read(): AsyncGenerator<T> {
    try {
      for (;;) {
        while (this.buffered.length > 0) yield this.buffered.shift() as T;
        if (this.closed) break;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
      }
      if (this.failure) throw this.failure.error;
    } finally {
      if (!this.closed) this.readerGone = true;
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
