import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import type { ServerContext } from "../server-context.js";
import { BatchFiles } from "./batch-files.js";
import { BatchJobs } from "./batch-jobs.js";
import { BatchRunner, batchRunnerDefaults } from "./batch-runner.js";

export interface OpenAiBatchParts {
  files: BatchFiles;
  jobs: BatchJobs;
  runner: BatchRunner;
}

/**
 * The Batch API's state for one server: files and batches under `dir`, and the runner. Before the server
 * listens, uploads cut short are swept and batches a stopped server left unfinished are failed; on close the
 * runner starts no more lines and fails what did not finish.
 */
export function openBatchParts(
  app: FastifyInstance,
  ctx: ServerContext,
  dir: string,
  apiKey: string | undefined,
): OpenAiBatchParts {
  const files = new BatchFiles(join(dir, "files"));
  const jobs = new BatchJobs(join(dir, "batches"));
  const runner = new BatchRunner(app, ctx, files, jobs, {
    ...batchRunnerDefaults,
    authorization: apiKey === undefined ? undefined : `Bearer ${apiKey}`,
  });
  app.addHook("onReady", async () => {
    await files.sweep();
    await jobs.recover();
  });
  app.addHook("onClose", () => runner.stop());
  return { files, jobs, runner };
}
