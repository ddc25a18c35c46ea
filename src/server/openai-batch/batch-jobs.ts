import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../../util/fs-atomic.js";
import { OpenAiRequestError } from "../openai-error.js";
import { newId, nowSeconds } from "./batch-files.js";

export type BatchStatus =
  | "validating"
  | "failed"
  | "in_progress"
  | "finalizing"
  | "completed"
  | "expired"
  | "cancelling"
  | "cancelled";

/** One reason a batch failed: a line of its input file, or the batch as a whole (no line). */
export interface BatchError {
  code: string;
  message: string;
  param: string | null;
  line: number | null;
}

/** OpenAI's batch object, as GET /v1/batches/{id} answers it. */
export interface OpenAiBatch {
  id: string;
  object: "batch";
  endpoint: string;
  errors: { object: "list"; data: BatchError[] } | null;
  input_file_id: string;
  completion_window: string;
  status: BatchStatus;
  output_file_id: string | null;
  error_file_id: string | null;
  created_at: number;
  in_progress_at: number | null;
  expires_at: number;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  request_counts: { total: number; completed: number; failed: number };
  metadata: Record<string, string> | null;
}

/** The states a batch can still leave; anything else is final. */
const unfinished: ReadonlySet<BatchStatus> = new Set([
  "validating",
  "in_progress",
  "finalizing",
  "cancelling",
]);

export const isFinished = (batch: OpenAiBatch) => !unfinished.has(batch.status);

const batchIdPattern = /^batch_[0-9a-f]{24}$/;
const completionWindowSeconds = 24 * 3600;

/** Mark a batch failed now, for one reason that is not a line of its input. */
export function failBatch(batch: OpenAiBatch, code: string, message: string): void {
  batch.status = "failed";
  batch.failed_at = nowSeconds();
  batch.errors = { object: "list", data: [{ code, message, param: null, line: null }] };
}

/**
 * The batch objects, one JSON file each, each written whole (write and rename). What a batch produced lives
 * in BatchFiles; this folder holds only their state.
 */
export class BatchJobs {
  constructor(private readonly dir: string) {}

  create(
    fields: Pick<OpenAiBatch, "endpoint" | "input_file_id" | "completion_window" | "metadata">,
  ): OpenAiBatch {
    const created = nowSeconds();
    return {
      id: newId("batch_"),
      object: "batch",
      ...fields,
      errors: null,
      status: "validating",
      output_file_id: null,
      error_file_id: null,
      created_at: created,
      in_progress_at: null,
      expires_at: created + completionWindowSeconds,
      finalizing_at: null,
      completed_at: null,
      failed_at: null,
      expired_at: null,
      cancelling_at: null,
      cancelled_at: null,
      request_counts: { total: 0, completed: 0, failed: 0 },
    };
  }

  /** Where a batch's output lines gather while it runs (never listed as a file until it finishes). */
  partialPath(id: string, kind: "output" | "errors"): string {
    return join(this.dir, `${id}.${kind}.partial`);
  }

  /** Note which process runs a batch, so a second server sharing this folder leaves it alone at start. */
  claim(batch: OpenAiBatch): Promise<void> {
    return writeFileAtomic(join(this.dir, `${batch.id}.owner`), String(process.pid));
  }

  private async ownerAlive(id: string): Promise<boolean> {
    const pid = Number(await readFile(join(this.dir, `${id}.owner`), "utf8").catch(() => ""));
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === "EPERM";
    }
  }

  save(batch: OpenAiBatch): Promise<void> {
    return writeFileAtomic(join(this.dir, `${batch.id}.json`), JSON.stringify(batch));
  }

  async get(id: string): Promise<OpenAiBatch> {
    try {
      if (!batchIdPattern.test(id)) throw new Error("not a batch id");
      return JSON.parse(await readFile(join(this.dir, `${id}.json`), "utf8")) as OpenAiBatch;
    } catch {
      throw new OpenAiRequestError(`No such Batch object: ${id}`, {
        param: "batch_id",
        code: "not_found",
        status: 404,
        hint: "GET /v1/batches lists the batches of this server.",
      });
    }
  }

  /** Newest first. */
  async list(): Promise<OpenAiBatch[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const ids = names
      .filter((name) => name.endsWith(".json"))
      .map((name) => name.slice(0, -5))
      .filter((id) => batchIdPattern.test(id));
    const batches = await Promise.all(ids.map((id) => this.get(id)));
    return batches.sort((a, b) => b.created_at - a.created_at || b.id.localeCompare(a.id));
  }

  /**
   * At start: a batch still unfinished whose server is gone was cut off by a stop or a crash. It is marked
   * failed (a cancel that was under way ends cancelled), and its partial output is removed: no batch is ever
   * left half-written. Batches another live server runs from the same folder are left alone.
   */
  async recover(): Promise<void> {
    for (const batch of await this.list()) {
      if (isFinished(batch) || (await this.ownerAlive(batch.id))) continue;
      await this.abandon(batch);
    }
  }

  /** End an unfinished batch that will not run on (the server stops, or stopped), dropping partial output. */
  async abandon(batch: OpenAiBatch): Promise<void> {
    if (batch.status === "cancelling") {
      batch.status = "cancelled";
      batch.cancelled_at = nowSeconds();
    } else {
      failBatch(batch, "server_stopped", "gpux serve stopped before this batch finished; create it again.");
    }
    await rm(this.partialPath(batch.id, "output"), { force: true });
    await rm(this.partialPath(batch.id, "errors"), { force: true });
    await this.save(batch);
  }

  /** A finished batch needs no owner. */
  release(id: string): Promise<void> {
    return rm(join(this.dir, `${id}.owner`), { force: true });
  }
}
