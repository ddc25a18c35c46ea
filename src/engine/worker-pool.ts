import type { TensorMap } from "../pipeline/pipeline.js";
import { log } from "../util/log.js";
import { type ArenaAllocate, ArenaCursor, ArenaLedger } from "./arena-space.js";
import { RestartBackoff } from "./restart-backoff.js";
import { RemoteError, WorkerCrashedError } from "./serving-errors.js";
import { arenaExtent, fromWire, toWire } from "./wire-tensor.js";
import { type Isolation, startWorkerHost, type WorkerHost } from "./worker-host.js";
import type { FromWorker, WorkerInit, WorkerReady } from "./worker-protocol.js";

export type { WorkerReady };

export interface RunResult {
  /** Read in place from a worker process's arena: valid until `release` is called, not after. */
  outputs: TensorMap;
  /** session.run inside the worker, in milliseconds. */
  computeMs: number;
  /** Hand the outputs' span of the arena back (call once every reader is done; more calls do nothing). */
  release: () => void;
  /** Tensor bytes copied to cross the boundary, both ways (0: every tensor was written in place). */
  copiedBytes: number;
}

/**
 * A batch's feeds, built by the caller: `allocate` gives room in the worker's arena (undefined: none), so
 * tensors made for this batch alone (merged requests) are written where the worker reads them, not copied.
 */
export type BuildFeeds = (allocate?: ArenaAllocate) => TensorMap;

interface Job {
  resolve: (result: RunResult) => void;
  reject: (error: Error) => void;
  /** Input bytes the server copied into the arena for this batch. */
  copiedBytes: number;
}

interface Slot {
  worker: WorkerHost;
  job?: Job;
  jobId?: number;
  /** When it reported ready (Date.now()). */
  readyAt?: number;
  /** The worker's shared arena, once it said it mapped it, and which of it answers still hold. */
  arena?: ArrayBuffer;
  ledger?: ArenaLedger;
}

export interface WorkerPoolOptions {
  init: WorkerInit;
  /** Workers, each with its own session. Default 1. */
  size?: number;
  /** Child processes (a native abort kills only one) or threads. Default "process". */
  isolation?: Isolation;
  /** Called whenever a worker becomes free, so the batcher can dispatch. */
  onIdle?: () => void;
  /** Called when a started worker dies (it is restarted), and when its replacement is ready or failed. */
  onWorkerExit?: (how: string) => void;
  onWorkerRestarted?: (error?: Error) => void;
}

/** Inference workers for one model; runs one batch per worker at a time; restarts a worker that dies. */
export class WorkerPool {
  private readonly slots: Slot[] = [];
  /** Every worker, started or still loading, so close() can stop them all. */
  private readonly workers = new Set<WorkerHost>();
  private readonly starting = new Set<Promise<unknown>>();
  private idleWaiters: Array<() => void> = [];
  private nextId = 1;
  private closing = false;
  private readonly backoff = new RestartBackoff();
  /** Restarts waiting out their backoff, cancelled by close(). */
  private readonly restartTimers = new Set<NodeJS.Timeout>();

  constructor(private readonly options: WorkerPoolOptions) {}

  /** Start every worker; resolves with the first one's report when all are ready. */
  async start(): Promise<WorkerReady> {
    const size = this.options.size ?? 1;
    const ready = await Promise.all(Array.from({ length: size }, () => this.spawn()));
    return ready[0] as WorkerReady;
  }

  private spawn(): Promise<WorkerReady> {
    const started = this.spawnWorker();
    const settled = started.catch(() => undefined);
    this.starting.add(settled);
    void settled.then(() => this.starting.delete(settled));
    return started;
  }

  private spawnWorker(): Promise<WorkerReady> {
    return new Promise((resolve, reject) => {
      const worker = startWorkerHost(this.options.isolation ?? "process", this.options.init);
      this.workers.add(worker);
      const slot: Slot = { worker };
      let started = false;
      worker.onMessage((message: FromWorker) => {
        if (message.kind === "ready") {
          started = true;
          slot.readyAt = Date.now();
          if (message.sharedArena && worker.arena) {
            slot.arena = worker.arena;
            slot.ledger = new ArenaLedger(worker.arena.byteLength);
          }
          this.slots.push(slot);
          resolve(message);
          this.options.onIdle?.();
        } else if (message.kind === "load-error") {
          reject(new RemoteError(message.error.message, message.error.status, message.error.hint));
        } else {
          const job = slot.job;
          if (!job || slot.jobId !== message.id) return;
          slot.job = undefined;
          slot.jobId = undefined;
          // read in place: their span stays held (the next batch gets other room) until released
          if (message.kind === "result") {
            const span = arenaExtent(message.outputs);
            job.resolve({
              outputs: fromWire(message.outputs, slot.arena),
              computeMs: message.computeMs,
              release: span && slot.ledger ? slot.ledger.hold(span) : () => undefined,
              copiedBytes: job.copiedBytes + message.copiedBytes,
            });
          } else job.reject(new RemoteError(message.error.message, message.error.status, message.error.hint));
          this.options.onIdle?.();
          this.wakeIdleWaiters();
        }
      });
      worker.onError((error) => {
        if (!started) reject(error);
        else log.warn(`inference worker failed: ${error.message}`);
      });
      worker.onExit((how) => {
        this.workers.delete(worker);
        if (!started)
          reject(new RemoteError(`Inference worker ended (${how}) while loading the model.`, 500));
        const index = this.slots.indexOf(slot);
        if (index >= 0) this.slots.splice(index, 1);
        slot.job?.reject(
          new WorkerCrashedError(
            `The inference worker of model '${this.options.init.loaded.config.name}' died (${how}) while running this request; it is being restarted.`,
            {
              hint: "Retry in a few seconds (GET /health answers 200 again once it is back). If the same input crashes it again, that input makes ONNX Runtime abort: check the server log.",
            },
          ),
        );
        slot.job = undefined;
        this.wakeIdleWaiters();
        if (started && !this.closing) {
          const delay = this.backoff.delayAfter(Date.now() - (slot.readyAt ?? 0));
          log.warn(
            `inference worker ended (${how}); starting a new one${delay > 0 ? ` in ${delay / 1000} s` : ""}`,
          );
          this.options.onWorkerExit?.(how);
          this.restartAfter(delay);
        }
      });
    });
  }

  private restartAfter(delayMs: number): void {
    const timer = setTimeout(() => {
      this.restartTimers.delete(timer);
      this.spawn().then(
        () => this.options.onWorkerRestarted?.(),
        (error: Error) => {
          log.warn(`could not restart the worker: ${error.message}`);
          this.options.onWorkerRestarted?.(error);
        },
      );
    }, delayMs);
    this.restartTimers.add(timer);
  }

  private wakeIdleWaiters(): void {
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /** True when some worker can take a batch now. */
  hasIdle(): boolean {
    return this.slots.some((slot) => !slot.job);
  }

  /** Workers started and not dead: 0 while the only one is being restarted. */
  get liveCount(): number {
    return this.slots.length;
  }

  get busyCount(): number {
    return this.slots.filter((slot) => slot.job).length;
  }

  /** Arena bytes answers still hold, over every worker (0 once all are encoded: tests see leaks). */
  get heldArenaBytes(): number {
    return this.slots.reduce((sum, slot) => sum + (slot.ledger?.heldBytes ?? 0), 0);
  }

  /**
   * Run a batch on an idle worker (call only when hasIdle()). Feeds built into the arena cross as offsets;
   * others are copied into it once, or moved (`transferable`, a thread) or copied through the pipe.
   */
  run(feeds: TensorMap | BuildFeeds, transferable: boolean): Promise<RunResult> {
    const slot = this.slots.find((s) => !s.job);
    if (!slot) return Promise.reject(new RemoteError("No idle inference worker.", 500));
    const id = this.nextId++;
    const transfer: ArrayBuffer[] = [];
    const span = slot.ledger?.freeSpan();
    const cursor = slot.arena && span ? new ArenaCursor(slot.arena, span) : undefined;
    const built = typeof feeds === "function" ? feeds(cursor?.allocate) : feeds;
    const wire = toWire(built, transferable ? transfer : undefined, cursor);
    return new Promise<RunResult>((resolve, reject) => {
      slot.job = { resolve, reject, copiedBytes: cursor?.copiedBytes ?? 0 };
      slot.jobId = id;
      slot.worker.post({ kind: "run", id, feeds: wire, arenaSpan: span }, transfer);
    });
  }

  /**
   * Stop every worker once it is idle: a batch still running (say, for a request that already timed out)
   * finishes first, because terminating a thread inside ONNX Runtime aborts the whole process.
   */
  async close(): Promise<void> {
    this.closing = true;
    for (const timer of this.restartTimers) clearTimeout(timer);
    this.restartTimers.clear();
    await Promise.all(this.starting);
    while (this.slots.some((slot) => slot.job))
      await new Promise<void>((wake) => this.idleWaiters.push(wake));
    await Promise.all(
      [...this.workers].map(
        (worker) =>
          new Promise<void>((resolve) => {
            const force = setTimeout(() => worker.kill(), 10_000);
            worker.onExit(() => {
              clearTimeout(force);
              resolve();
            });
            worker.post({ kind: "close" }, []);
          }),
      ),
    );
    this.slots.length = 0;
  }
}
