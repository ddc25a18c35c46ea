import type { FastifyInstance } from "fastify";
import { isFinished, type OpenAiBatch } from "../../openai-batch/batch-jobs.js";
import type { OpenAiBatchParts } from "../../openai-batch/openai-batch.js";
import { OpenAiRequestError } from "../../openai-error.js";
import {
  type Body,
  checkKnownFields,
  readBody,
  readNumber,
  readString,
  requireString,
} from "./read-fields.js";

/** The routes a batch may send its lines to: every POST route of this API that answers in one body. */
export const batchEndpoints = ["/v1/chat/completions", "/v1/completions", "/v1/embeddings", "/v1/rerank"];

const tags = ["OpenAI-compatible"];

function readMetadata(body: Body): Record<string, string> | null {
  const value = body.metadata;
  if (value === undefined || value === null) return null;
  const entries = typeof value === "object" && !Array.isArray(value) ? Object.entries(value) : undefined;
  if (!entries || entries.length > 16 || !entries.every(([, v]) => typeof v === "string")) {
    throw new OpenAiRequestError("'metadata' must be an object of at most 16 string values.", {
      param: "metadata",
      code: "invalid_value",
    });
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

/** POST/GET /v1/batches and cancel: jobs over an uploaded file, run in the background beside live traffic. */
export function registerBatchRoutes(scope: FastifyInstance, parts: OpenAiBatchParts): void {
  const { files, jobs, runner } = parts;
  const fresh = async (id: string): Promise<OpenAiBatch> => runner.current(id) ?? jobs.get(id);
  scope.post(
    "/batches",
    { schema: { summary: "Create a batch from an uploaded JSONL file", tags } },
    async (request) => {
      const body = readBody(request.body);
      checkKnownFields(body, ["input_file_id", "endpoint", "completion_window", "metadata"]);
      const endpoint = requireString(body, "endpoint");
      if (!batchEndpoints.includes(endpoint)) {
        throw new OpenAiRequestError(
          `'endpoint' is '${endpoint}'; gpux batches ${batchEndpoints.join(", ")}.`,
          {
            param: "endpoint",
            code: "invalid_value",
          },
        );
      }
      const window = requireString(body, "completion_window");
      if (window !== "24h") {
        throw new OpenAiRequestError(`'completion_window' must be '24h', got '${window}'.`, {
          param: "completion_window",
          code: "invalid_value",
        });
      }
      const input = await files.get(requireString(body, "input_file_id"));
      if (input.purpose !== "batch") {
        throw new OpenAiRequestError(
          `File ${input.id} is a batch's output, not an input (purpose 'batch').`,
          {
            param: "input_file_id",
            code: "invalid_value",
          },
        );
      }
      const batch = jobs.create({
        endpoint,
        input_file_id: input.id,
        completion_window: window,
        metadata: readMetadata(body),
      });
      await jobs.save(batch);
      await jobs.claim(batch);
      runner.enqueue(batch);
      return batch;
    },
  );
  scope.get(
    "/batches",
    { schema: { summary: "The batches, newest first (limit, after)", tags } },
    async (request) => {
      const query = request.query as Body;
      const limit =
        readNumber({ limit: query.limit === undefined ? undefined : Number(query.limit) }, "limit", {
          min: 1,
          max: 100,
          integer: true,
        }) ?? 20;
      const after = readString(query, "after");
      const all = await Promise.all((await jobs.list()).map((batch) => fresh(batch.id)));
      const start = after === undefined ? 0 : all.findIndex((batch) => batch.id === after) + 1;
      const data = all.slice(start, start + limit);
      return {
        object: "list",
        data,
        first_id: data[0]?.id ?? null,
        last_id: data.at(-1)?.id ?? null,
        has_more: start + limit < all.length,
      };
    },
  );
  scope.get<{ Params: { id: string } }>(
    "/batches/:id",
    { schema: { summary: "One batch: status, request counts, output and error file ids", tags } },
    async (request) => fresh(request.params.id),
  );
  scope.post<{ Params: { id: string } }>(
    "/batches/:id/cancel",
    { schema: { summary: "Cancel a batch (lines in flight finish; the output holds what was done)", tags } },
    async (request) => {
      const batch = await fresh(request.params.id);
      if (isFinished(batch)) {
        throw new OpenAiRequestError(
          `Batch ${batch.id} is ${batch.status}; only a running batch can be cancelled.`,
          {
            param: "batch_id",
            code: "invalid_state",
            status: 409,
          },
        );
      }
      return runner.cancel(batch);
    },
  );
}
