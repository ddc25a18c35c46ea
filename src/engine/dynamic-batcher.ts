import type { TensorMap } from "../pipeline/pipeline.js";
import type { ArenaAllocate } from "./arena-space.js";
import { batchKey, batchRows, mergeFeeds, splitOutputs } from "./merge-feeds.js";
import { DeadlineError, QueueFullError, WorkerCrashedError } from "./serving-errors.js";
import type { WorkerPool } from "./worker-pool.js";

export interface BatcherOptions {
  /** Model name, for messages. */
  model: string;
  /** Rows merged into one session.run at most; 1 turns batching off. */
  maxBatchSize: number;
  /** How long the oldest request may wait for others to join its batch, in ms. 0: merge only what is queued. */
  maxQueueDelayMs: number;
  /** Requests admitted at once (queued + running); the next one gets 429. */
  maxConcurrency: number;
  /** Deadline per request from arrival, in ms; past it the request gets 504. */
  timeoutMs: number;
}

/** Figures the batcher reports for metrics. */
export interface BatchObserver {
  onBatch(info: { requests: number; rows: number; computeMs: number }): void;
  onDequeue(queueMs: number): void;
  /** An inference worker died and is being restarted. */
  onWorkerRestart?(): void;
}

export interface InferResult {
  /** Valid until `release` is called (they may be read in place from a worker's arena). */
  outputs: TensorMap;
  /** Hand this request's share of the outputs back; call once its answer is encoded. */
  release: () => void;
  queueMs: number;
  computeMs: number;
  /** Rows in the session.run that answered this request. */
  batchRows: number;
}

interface Pending {
  feeds: TensorMap;
  padding?: Record<string, number>;
  rows: number;
  key: string;
  arrived: number;
  timer?: NodeJS.Timeout;
  settled: boolean;
  resolve(result: InferResult): void;
  reject(error: Error): void;
}

/** Queues requests for one model and merges concurrent ones into batches for the worker pool. */
export class DynamicBatcher {
  private readonly queue: Pending[] = [];
  private admitted = 0;
  private delayTimer?: NodeJS.Timeout;
  private drainWaiters: Array<() => void> = [];
  private uniqueKey = 0;
  /** False until the model is known to have a dynamic batch axis: every request runs alone. */
  batchable = false;

  constructor(
    private readonly pool: WorkerPool,
    private readonly options: BatcherOptions,
    private readonly observer?: BatchObserver,
  ) {}

  /** Requests waiting for a worker. */
  get queued(): number {
    return this.queue.length;
  }

  /** Requests admitted and not yet answered. */
  get inFlight(): number {
    return this.admitted;
  }

  /** Run feeds as part of a batch; rejects with 429 when full and 504 past the deadline. */
  infer(feeds: TensorMap, padding?: Record<string, number>): Promise<InferResult> {
    if (this.admitted >= this.options.maxConcurrency) {
      return Promise.reject(
        new QueueFullError(`Model queue is full (${this.options.maxConcurrency} requests in flight).`, {
          hint: "Retry later, or raise --max-concurrency / add --workers.",
        }),
      );
    }
    const rows = batchRows(feeds);
    const batchable = this.batchable && this.options.maxBatchSize > 1 && rows !== undefined;
    return new Promise<InferResult>((resolve, reject) => {
      const pending: Pending = {
        feeds,
        padding,
        rows: rows ?? 1,
        key: batchable ? batchKey(feeds, padding) : `alone:${this.uniqueKey++}`,
        arrived: performance.now(),
        settled: false,
        resolve: (result) => this.settle(pending, () => resolve(result)),
        reject: (error) => this.settle(pending, () => reject(error)),
      };
      pending.timer = setTimeout(() => {
        const index = this.queue.indexOf(pending);
        if (index >= 0) this.queue.splice(index, 1);
        pending.reject(
          new DeadlineError(`Request not answered within ${this.options.timeoutMs} ms.`, {
            hint: "Raise --timeout-ms, lower the load, or add --workers.",
          }),
        );
      }, this.options.timeoutMs);
      this.admitted++;
      this.queue.push(pending);
      this.schedule();
    });
  }

  private settle(pending: Pending, answer: () => void): void {
    if (pending.settled) return;
    pending.settled = true;
    clearTimeout(pending.timer);
    this.admitted--;
    answer();
    if (this.admitted === 0) for (const wake of this.drainWaiters.splice(0)) wake();
  }

  /** Dispatch batches while workers are idle; called on arrival and whenever a worker frees up. */
  schedule(): void {
    while (this.queue.length > 0 && this.pool.hasIdle()) {
      const head = this.queue[0] as Pending;
      const wait = this.options.maxQueueDelayMs - (performance.now() - head.arrived);
      if (wait > 0 && this.rowsLike(head) < this.options.maxBatchSize) {
        if (!this.delayTimer) {
          this.delayTimer = setTimeout(() => {
            this.delayTimer = undefined;
            this.schedule();
          }, wait);
        }
        return;
      }
      this.dispatch(this.takeBatch(head));
    }
  }

  private rowsLike(head: Pending): number {
    return this.queue.reduce((sum, p) => (p.key === head.key ? sum + p.rows : sum), 0);
  }

  private takeBatch(head: Pending): Pending[] {
    const batch: Pending[] = [];
    let rows = 0;
    for (let i = 0; i < this.queue.length; ) {
      const p = this.queue[i] as Pending;
      if (p.key === head.key && (batch.length === 0 || rows + p.rows <= this.options.maxBatchSize)) {
        batch.push(p);
        rows += p.rows;
        this.queue.splice(i, 1);
      } else {
        i++;
      }
    }
    return batch;
  }

  private dispatch(batch: Pending[]): void {
    const now = performance.now();
    for (const p of batch) this.observer?.onDequeue(now - p.arrived);
    const single = batch.length === 1;
    const build = single
      ? () => (batch[0] as Pending).feeds
      : (allocate?: ArenaAllocate) => mergeFeeds(batch, allocate);
    const rows = batch.map((p) => p.rows);
    const total = rows.reduce((a, b) => a + b, 0);
    this.pool.run(build, !single).then(
      (result) => {
        this.observer?.onBatch({ requests: batch.length, rows: total, computeMs: result.computeMs });
        let parts: TensorMap[];
        try {
          parts = single ? [result.outputs] : splitOutputs(result.outputs, rows, this.options.model);
        } catch (error) {
          result.release();
          for (const p of batch) p.reject(error as Error);
          return;
        }
        // the batch's outputs are released once every request still waiting has released its part
        let readers = batch.filter((p) => !p.settled).length;
        const releaseOne = () => {
          if (--readers === 0) result.release();
        };
        if (readers === 0) result.release();
        batch.forEach((p, i) => {
          if (p.settled) return; // past its deadline: nobody reads its part
          let released = false;
          p.resolve({
            outputs: parts[i] as TensorMap,
            release: () => {
              if (released) return;
              released = true;
              releaseOne();
            },
            queueMs: now - p.arrived,
            computeMs: result.computeMs,
            batchRows: total,
          });
        });
      },
      (error: Error) => {
        // One bad request must not fail the others it was merged with, whatever the error's class (an input
        // error, or a failure such as an allocation that only its values cause): bisect, running each half as
        // its own batch again, until every request has its own outcome — good ones stay batched. Not when the
        // worker died: each retry could kill it again; those requests are answered 503.
        if (!single && !(error instanceof WorkerCrashedError)) {
          this.requeueHalves(batch);
          return;
        }
        for (const p of batch) p.reject(error);
      },
    );
  }

  /** Answer every request still queued (not yet running) with `error`: a shutdown past its deadline. */
  abandonQueued(error: Error): void {
    for (const pending of this.queue.splice(0)) pending.reject(error);
  }

  /** Put a failed batch back at the head of the queue as two batches that only merge within themselves. */
  private requeueHalves(batch: Pending[]): void {
    const live = batch.filter((p) => !p.settled);
    const half = Math.ceil(live.length / 2);
    const first = `retry:${this.uniqueKey++}`;
    const second = `retry:${this.uniqueKey++}`;
    live.forEach((p, i) => {
      p.key = i < half ? first : second;
    });
    this.queue.unshift(...live);
    this.schedule();
  }

  /** Resolve once every admitted request has been answered. */
  drain(): Promise<void> {
    if (this.admitted === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }
}
