import { type BatchCache, type CacheRow, packCacheRows, rowsOf } from "./batch-cache.js";
import type { DecoderSession, SequenceCache } from "./decoder-session.js";
import type { EventChannel } from "./event-channel.js";
import type { GenerationEvent } from "./generator.js";
import type { Sequence } from "./sequence.js";

/** A sequence the loop works for, where its events go, and the signal that ends it early. */
export interface LoopEntry {
  sequence: Sequence;
  events: EventChannel<GenerationEvent>;
  signal?: AbortSignal;
}

/** Counters of the loop's work, for benchmarks and tests (what batching saves and what joins cost). */
export interface DecodeLoopStats {
  prefills: number;
  /** Decode forward passes; each serves every row of its batch. */
  steps: number;
  /** Rows over all steps (rowSteps / steps = the mean batch). */
  rowSteps: number;
  /** Batches rebuilt (their caches copied) because a sequence joined or left. */
  repacks: number;
  /** Time spent copying caches into rebuilt batches. */
  repackMs: number;
}

/** Sequences decoding together: row i of the cache is entries[i]. */
interface Batch {
  entries: LoopEntry[];
  cache: BatchCache;
}

/**
 * Continuous batching for one model's decoder. Each tick: sequences aborted or abandoned leave; new ones run
 * their prefill alone (batch 1) and sample their first token; the batch is rebuilt if anyone joined or left
 * (one copy of the caches, not one per step); then ONE forward pass decodes a token for every running
 * sequence. A sequence leaves the tick it finishes, without waiting for the others, and `onLeave` frees its
 * slot at once. A graph that cannot batch rows of different lengths (DecoderSession.canBatch) runs each
 * sequence as its own batch of one, in turn.
 */
export class DecodeLoop {
  private pending: LoopEntry[] = [];
  private batches: Batch[] = [];
  private readonly gone = new Set<LoopEntry>();
  private driving = false;
  readonly stats: DecodeLoopStats = { prefills: 0, steps: 0, rowSteps: 0, repacks: 0, repackMs: 0 };

  constructor(
    private readonly decoder: DecoderSession,
    private readonly onLeave: (entry: LoopEntry) => void,
  ) {}

  /**
   * Start working for a sequence (its slot is already taken); it joins at the next tick. An idle loop starts
   * on the next turn of the event loop, so requests that arrive together are prefilled and packed together.
   */
  add(entry: LoopEntry): void {
    this.pending.push(entry);
    if (this.driving) return;
    this.driving = true;
    setImmediate(() => void this.drive());
  }

  private async drive(): Promise<void> {
    try {
      while (this.pending.length > 0 || this.batches.length > 0) await this.tick();
    } catch (error) {
      // a bug here must not hang every request in flight: each gets the error, the loop starts clean
      for (const entry of [...this.pending, ...this.batches.flatMap((batch) => batch.entries)]) {
        if (!this.gone.has(entry)) this.fail(entry, error);
      }
      this.pending = [];
      this.batches = [];
      this.gone.clear();
    } finally {
      this.driving = false;
    }
  }

  private async tick(): Promise<void> {
    this.dropAborted();
    const joining = await this.prefill(this.pending.splice(0));
    this.regroup(joining);
    for (const batch of this.batches) await this.step(batch);
  }

  private dropAborted(): void {
    for (const entry of [...this.pending, ...this.batches.flatMap((batch) => batch.entries)]) {
      if (this.gone.has(entry)) continue;
      if (entry.events.cancelled || entry.signal?.aborted) this.leave(entry, entry.sequence.abort());
    }
    this.pending = this.pending.filter((entry) => !this.gone.has(entry));
  }

  /**
   * Prefill each new sequence alone; those not finished by their first token come back with their cache. One
   * whose client left during an earlier one's prefill (hundreds of ms for a long prompt) ends unread.
   */
  private async prefill(entries: LoopEntry[]): Promise<Array<{ entry: LoopEntry; cache: SequenceCache }>> {
    const joining: Array<{ entry: LoopEntry; cache: SequenceCache }> = [];
    for (const entry of entries) {
      if (entry.events.cancelled || entry.signal?.aborted) {
        this.leave(entry, entry.sequence.abort());
        continue;
      }
      const cache = this.decoder.emptyCache();
      try {
        const logits = await this.decoder.forward(cache, entry.sequence.promptIds);
        this.stats.prefills++;
        const events = entry.sequence.accept(logits);
        if (entry.sequence.finished) this.leave(entry, events);
        else {
          entry.events.push(events);
          joining.push({ entry, cache });
        }
      } catch (error) {
        this.fail(entry, error);
      }
    }
    return joining;
  }

  /**
   * Rebuild the batches whose membership changed, leaving and joining in one copy: those that left go, those
   * that joined come in (into the one batch, or each as its own batch when the graph cannot batch).
   */
  private regroup(joining: Array<{ entry: LoopEntry; cache: SequenceCache }>): void {
    const own = joining.map(({ entry, cache }) => ({
      entry,
      row: { past: cache.past, row: 0, width: cache.length, length: cache.length } as CacheRow,
    }));
    const next: Batch[] = [];
    for (const [index, batch] of this.batches.entries()) {
      const stay = batch.entries.flatMap((entry, row) => (this.gone.has(entry) ? [] : [row]));
      const joiners = this.decoder.canBatch && index === 0 ? own.splice(0) : [];
      if (stay.length === batch.entries.length && joiners.length === 0) next.push(batch);
      else if (stay.length + joiners.length > 0) {
        const entries = [
          ...stay.map((row) => batch.entries[row] as LoopEntry),
          ...joiners.map((j) => j.entry),
        ];
        next.push(this.pack(entries, [...rowsOf(batch.cache, stay), ...joiners.map((j) => j.row)]));
      }
    }
    if (this.decoder.canBatch && own.length > 0) {
      next.push(
        this.pack(
          own.map((o) => o.entry),
          own.map((o) => o.row),
        ),
      );
    } else for (const { entry, row } of own) next.push(this.pack([entry], [row]));
    this.gone.clear();
    this.batches = next;
  }

  private pack(entries: LoopEntry[], rows: CacheRow[]): Batch {
    const started = performance.now();
    const cache = packCacheRows(this.decoder.cacheNames, rows);
    if (cache.past !== rows[0]?.past) {
      this.stats.repacks++;
      this.stats.repackMs += performance.now() - started;
    }
    return { entries, cache };
  }

  /** One decode step for every row of the batch; rows that finish leave (the batch is rebuilt next tick). */
  private async step(batch: Batch): Promise<void> {
    const ids = batch.entries.map((entry) => entry.sequence.lastToken);
    let logits: Awaited<ReturnType<DecoderSession["forwardBatch"]>>;
    try {
      logits = await this.decoder.forwardBatch(batch.cache, ids);
    } catch (error) {
      for (const entry of batch.entries) if (!this.gone.has(entry)) this.fail(entry, error);
      return;
    }
    this.stats.steps++;
    this.stats.rowSteps += ids.length;
    for (const [row, entry] of batch.entries.entries()) {
      try {
        const events = entry.sequence.accept(logits[row] as (typeof logits)[number]);
        if (entry.sequence.finished) this.leave(entry, events);
        else entry.events.push(events);
      } catch (error) {
        this.fail(entry, error);
      }
    }
  }

  /** The sequence is done: its last events, then its slot is free. */
  private leave(entry: LoopEntry, events: GenerationEvent[]): void {
    this.gone.add(entry);
    entry.events.push(events);
    entry.events.close();
    this.onLeave(entry);
  }

  private fail(entry: LoopEntry, error: unknown): void {
    this.gone.add(entry);
    entry.events.fail(error);
    this.onLeave(entry);
  }
}
