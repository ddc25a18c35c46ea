import { createWriteStream, type WriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import type { FastifyInstance } from "fastify";
import { sleep } from "../../net/retry.js";
import { errorMessage } from "../../util/errors.js";
import { log } from "../../util/log.js";
import type { ServerContext } from "../server-context.js";
import { type BatchFiles, newId, nowSeconds } from "./batch-files.js";
import { type BatchRequestLine, batchLines, parseBatchLine, validateBatchInput } from "./batch-input.js";
import { type BatchJobs, failBatch, type OpenAiBatch } from "./batch-jobs.js";

export interface BatchRunnerOptions {
  /** Lines in flight at once while no live request is open (so the dynamic batcher can merge them). */
  concurrency: number;
  /** How long a line waits for live traffic to pass before it goes anyway (batches must still progress). */
  yieldMs: number;
  /** Sent with every line when the server checks an API key (lines run as the server itself). */
  authorization?: string;
}

export const batchRunnerDefaults: BatchRunnerOptions = { concurrency: 4, yieldMs: 50 };

/** How often a running batch's request_counts are written to disk (they are exact in memory always). */
const saveEveryMs = 1000;

/** One answered line, as the output and error files hold it. */
interface LineResult {
  ok: boolean;
  text: string;
}

function writeLine(stream: WriteStream, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(`${text}\n`, (error) => (error ? reject(error) : resolve()));
  });
}

function closeStream(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.end((error?: Error | null) => (error ? reject(error) : resolve()));
  });
}

/**
 * Runs batches in the background, one at a time, oldest first: each line is sent through the server's own
 * route (Fastify's inject, so a line is answered exactly as the same request over HTTP, with the same
 * validation, batching, limits and metrics). Live requests go first: while any is open, a line waits up to
 * yieldMs and only one line runs at a time. Output lines are written in input order.
 */
export class BatchRunner {
  private readonly queue: string[] = [];
  private readonly live = new Map<string, OpenAiBatch>();
  private running: Promise<void> | undefined;
  private stopped = false;
  private inFlight = 0;

  constructor(
    private readonly app: FastifyInstance,
    private readonly ctx: ServerContext,
    private readonly files: BatchFiles,
    private readonly jobs: BatchJobs,
    private readonly options: BatchRunnerOptions = batchRunnerDefaults,
  ) {}

  /** The current state of a batch this runner holds (fresher than its file), else undefined. */
  current(id: string): OpenAiBatch | undefined {
    return this.live.get(id);
  }

  enqueue(batch: OpenAiBatch): void {
    this.live.set(batch.id, batch);
    this.queue.push(batch.id);
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
  }

  /** Ask a batch to stop: a queued one ends cancelled at once, a running one after its lines in flight. */
  async cancel(batch: OpenAiBatch): Promise<OpenAiBatch> {
    const held = this.live.get(batch.id) ?? batch;
    if (held.status === "validating" || held.status === "in_progress") {
      held.status = "cancelling";
      held.cancelling_at = nowSeconds();
      await this.jobs.save(held);
    }
    return held;
  }

  /** At shutdown: start no more lines, let those in flight end, and fail what did not finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async drain(): Promise<void> {
    for (let id = this.queue.shift(); id !== undefined; id = this.queue.shift()) {
      const batch = this.live.get(id) as OpenAiBatch;
      try {
        await this.run(batch);
      } catch (error) {
        log.warn(`batch ${id} failed: ${errorMessage(error)}`);
        await rm(this.jobs.partialPath(id, "output"), { force: true });
        await rm(this.jobs.partialPath(id, "errors"), { force: true });
        failBatch(batch, "server_error", `The batch could not run: ${errorMessage(error)}`);
        await this.jobs.save(batch).catch(() => undefined);
      }
      await this.jobs.release(id).catch(() => undefined);
      this.live.delete(id);
    }
  }

  private get stopping(): boolean {
    return this.stopped || this.ctx.shuttingDown;
  }

  private async run(batch: OpenAiBatch): Promise<void> {
    if (this.stopping) return this.jobs.abandon(batch);
    if (batch.status === "cancelling") return this.finish(batch, "cancelled");
    const input = this.files.contentPath(batch.input_file_id);
    const { total, errors } = await validateBatchInput(input, batch.endpoint);
    batch.request_counts.total = total;
    if (errors.length > 0) {
      batch.status = "failed";
      batch.failed_at = nowSeconds();
      batch.errors = { object: "list", data: errors };
      return this.jobs.save(batch);
    }
    if (batch.status === "validating") batch.status = "in_progress";
    batch.in_progress_at = nowSeconds();
    await this.jobs.save(batch);
    const output = createWriteStream(this.jobs.partialPath(batch.id, "output"));
    const failures = createWriteStream(this.jobs.partialPath(batch.id, "errors"));
    try {
      await this.runLines(batch, input, output, failures);
    } finally {
      await Promise.all([closeStream(output), closeStream(failures)]);
    }
    if (this.stopping) return this.jobs.abandon(batch);
    // a cancel may have come in while the lines ran
    const cancelled = (batch.status as OpenAiBatch["status"]) === "cancelling";
    await this.finish(batch, cancelled ? "cancelled" : "completed");
  }

  /** Send every line, a window of them at once, and write each result in input order. */
  private async runLines(
    batch: OpenAiBatch,
    input: string,
    output: WriteStream,
    failures: WriteStream,
  ): Promise<void> {
    const window: Promise<LineResult>[] = [];
    let savedAt = performance.now();
    const writeOldest = async () => {
      const result = await (window.shift() as Promise<LineResult>);
      await writeLine(result.ok ? output : failures, result.text);
      if (result.ok) batch.request_counts.completed++;
      else batch.request_counts.failed++;
      if (performance.now() - savedAt >= saveEveryMs) {
        savedAt = performance.now();
        await this.jobs.save(batch);
      }
    };
    for await (const { text, line } of batchLines(input)) {
      if (this.stopping || batch.status === "cancelling") break;
      const parsed = parseBatchLine(text, line, batch.endpoint);
      if (!("request" in parsed)) throw new Error(`line ${line} changed after validation`);
      const limit = await this.waitForTurn();
      while (window.length >= limit) await writeOldest();
      window.push(this.send(parsed.request));
    }
    while (window.length > 0) await writeOldest();
  }

  /** Wait (up to yieldMs) while live requests are open; how many lines may then be in flight. */
  private async waitForTurn(): Promise<number> {
    const liveOpen = () => this.ctx.openRequests - this.inFlight > 0;
    const end = performance.now() + this.options.yieldMs;
    while (liveOpen() && performance.now() < end) await sleep(1);
    return liveOpen() ? 1 : this.options.concurrency;
  }

  private async send(request: BatchRequestLine): Promise<LineResult> {
    this.inFlight++;
    const requestId = newId("req_");
    try {
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "x-request-id": requestId,
      };
      if (this.options.authorization) headers.authorization = this.options.authorization;
      const answer = await this.app.inject({
        method: "POST",
        url: request.url,
        headers,
        payload: request.body,
      });
      let body: unknown;
      try {
        body = answer.json();
      } catch {
        body = answer.body;
      }
      const ok = answer.statusCode >= 200 && answer.statusCode < 300;
      const line = {
        id: newId("batch_req_"),
        custom_id: request.custom_id,
        response: { status_code: answer.statusCode, request_id: requestId, body },
        error: null,
      };
      return { ok, text: JSON.stringify(line) };
    } catch (error) {
      const line = {
        id: newId("batch_req_"),
        custom_id: request.custom_id,
        response: null,
        error: { code: "server_error", message: errorMessage(error) },
      };
      return { ok: false, text: JSON.stringify(line) };
    } finally {
      this.inFlight--;
    }
  }

  /** Register the output and error files (those with lines) and end the batch. */
  private async finish(batch: OpenAiBatch, status: "completed" | "cancelled"): Promise<void> {
    batch.status = "finalizing";
    batch.finalizing_at = nowSeconds();
    const { completed, failed } = batch.request_counts;
    for (const [kind, count] of [
      ["output", completed],
      ["errors", failed],
    ] as const) {
      const partial = this.jobs.partialPath(batch.id, kind);
      if (count === 0) {
        await rm(partial, { force: true });
        continue;
      }
      const file = await this.files.adopt(partial, {
        filename: `${batch.id}_${kind === "output" ? "output" : "error"}.jsonl`,
        purpose: "batch_output",
      });
      if (kind === "output") batch.output_file_id = file.id;
      else batch.error_file_id = file.id;
    }
    batch.status = status;
    if (status === "completed") batch.completed_at = nowSeconds();
    else batch.cancelled_at = nowSeconds();
    await this.jobs.save(batch);
  }
}
