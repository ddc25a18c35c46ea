import { Worker } from "node:worker_threads";
import type { TensorMap } from "../pipeline/pipeline.js";
import { log } from "../util/log.js";
import { RemoteError, WorkerCrashedError } from "./serving-errors.js";
import { fromWire, toWire } from "./wire-tensor.js";
import { workerEntry } from "./worker-entry.js";
import type { FromWorker, WorkerInit, WorkerReady } from "./worker-protocol.js";

export type { WorkerReady };

const workerEntryPoint = workerEntry("inference-worker");

export interface RunResult {
  outputs: TensorMap;
  /** session.run inside the worker, in milliseconds. */
  computeMs: number;
}

interface Job {
  resolve: (result: RunResult) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  job?: Job;
  jobId?: number;
}

export interface WorkerPoolOptions {
  init: WorkerInit;
  /** Worker threads, each with its own session. Default 1. */
  size?: number;
  /** Called whenever a worker becomes free, so the batcher can dispatch. */
  onIdle?: () => void;
  /** Called when a started worker dies (it is restarted), and when its replacement is ready or failed. */
  onWorkerExit?: (code: number) => void;
  onWorkerRestarted?: (error?: Error) => void;
}

/** Inference workers for one model; runs one batch per worker at a time; restarts a worker that dies. */
export class WorkerPool {
  private readonly slots: Slot[] = [];
  /** Every worker, started or still loading, so close() can stop them all. */
  private readonly workers = new Set<Worker>();
  private readonly starting = new Set<Promise<unknown>>();
  private idleWaiters: Array<() => void> = [];
  private nextId = 1;
  private closing = false;

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
      const worker = new Worker(workerEntryPoint[0], {
        ...workerEntryPoint[1],
        workerData: this.options.init,
      });
      this.workers.add(worker);
      const slot: Slot = { worker };
      let started = false;
      worker.on("message", (message: FromWorker) => {
        if (message.kind === "ready") {
          started = true;
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
          if (message.kind === "result")
            job.resolve({ outputs: fromWire(message.outputs), computeMs: message.computeMs });
          else job.reject(new RemoteError(message.error.message, message.error.status, message.error.hint));
          this.options.onIdle?.();
          this.wakeIdleWaiters();
        }
      });
      worker.on("error", (error) => {
        if (!started) reject(error);
        else log.warn(`inference worker failed: ${error.message}`);
      });
      worker.on("exit", (code) => {
        this.workers.delete(worker);
        if (!started)
          reject(new RemoteError(`Inference worker exited (code ${code}) while loading the model.`, 500));
        const index = this.slots.indexOf(slot);
        if (index >= 0) this.slots.splice(index, 1);
        slot.job?.reject(
          new WorkerCrashedError(
            `The inference worker of model '${this.options.init.loaded.config.name}' died (exit code ${code}) while running this request; it is being restarted.`,
            {
              hint: "Retry in a few seconds (GET /health answers 200 again once it is back). If the same input crashes it again, that input makes ONNX Runtime abort: check the server log.",
            },
          ),
        );
        slot.job = undefined;
        this.wakeIdleWaiters();
        if (started && !this.closing) {
          log.warn(`inference worker exited with code ${code}; starting a new one`);
          this.options.onWorkerExit?.(code);
          this.spawn().then(
            () => this.options.onWorkerRestarted?.(),
            (error: Error) => {
              log.warn(`could not restart the worker: ${error.message}`);
              this.options.onWorkerRestarted?.(error);
            },
          );
        }
      });
    });
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

  /** Run feeds on an idle worker (call only when hasIdle()); buffers of `transferable` feeds are moved. */
  run(feeds: TensorMap, transferable: boolean): Promise<RunResult> {
    const slot = this.slots.find((s) => !s.job);
    if (!slot) return Promise.reject(new RemoteError("No idle inference worker.", 500));
    const id = this.nextId++;
    const transfer: ArrayBuffer[] = [];
    const wire = toWire(feeds, transferable ? transfer : undefined);
    return new Promise<RunResult>((resolve, reject) => {
      slot.job = { resolve, reject };
      slot.jobId = id;
      slot.worker.postMessage({ kind: "run", id, feeds: wire }, transfer);
    });
  }

  /**
   * Stop every worker once it is idle: a batch still running (say, for a request that already timed out)
   * finishes first, because terminating a thread inside ONNX Runtime aborts the whole process.
   */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.starting);
    while (this.slots.some((slot) => slot.job))
      await new Promise<void>((wake) => this.idleWaiters.push(wake));
    await Promise.all(
      [...this.workers].map(
        (worker) =>
          new Promise<void>((resolve) => {
            const force = setTimeout(() => void worker.terminate(), 10_000);
            worker.once("exit", () => {
              clearTimeout(force);
              resolve();
            });
            worker.postMessage({ kind: "close" });
          }),
      ),
    );
    this.slots.length = 0;
  }
}
