import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import { Busboy, type BusboyHeaders, type BusboyInstance } from "@fastify/busboy";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { BatchFiles, OpenAiFile } from "../../openai-batch/batch-files.js";
import { OpenAiRequestError } from "../../openai-error.js";

/** OpenAI's own limit on a batch input file. */
export const maxBatchFileBytes = 200 * 1024 * 1024;

const tags = ["OpenAI-compatible"];

function badUpload(message: string, hint?: string, status = 400): OpenAiRequestError {
  return new OpenAiRequestError(message, { code: "invalid_file", status, hint });
}

/** Read a multipart upload (`file`, `purpose`) and store the file as it streams in. */
function receiveUpload(request: FastifyRequest, files: BatchFiles): Promise<OpenAiFile> {
  return new Promise((resolve, reject) => {
    let parser: BusboyInstance;
    try {
      parser = new Busboy({
        headers: request.headers as BusboyHeaders,
        limits: { files: 1, fields: 8, fileSize: maxBatchFileBytes },
      });
    } catch (error) {
      reject(badUpload(`The upload is not valid multipart/form-data: ${(error as Error).message}.`));
      return;
    }
    let purpose: string | undefined;
    let saving: Promise<OpenAiFile> | undefined;
    let tooLarge = false;
    parser.on("field", (name: string, value: string) => {
      if (name === "purpose") purpose = value;
    });
    parser.on("file", (name: string, stream: Readable, filename: string) => {
      if (name !== "file" || saving) {
        stream.resume();
        return;
      }
      stream.on("limit", () => {
        tooLarge = true;
      });
      saving = files.save(stream, { filename: filename || "upload.jsonl", purpose: "batch" });
      saving.catch(() => undefined); // awaited at "finish"; a failure there is answered
    });
    parser.on("error", (error: Error) =>
      reject(badUpload(`The upload could not be read: ${error.message}.`)),
    );
    parser.on("finish", async () => {
      try {
        if (!saving)
          throw badUpload("The upload has no 'file' part.", "Send the file as the form field 'file'.");
        const file = await saving;
        const problem = tooLarge
          ? badUpload(
              `The file is larger than ${maxBatchFileBytes / 1024 / 1024} MB.`,
              "Split it into several batches.",
              413,
            )
          : purpose !== "batch"
            ? new OpenAiRequestError(
                purpose === undefined
                  ? "Missing required parameter: 'purpose'."
                  : `'purpose' is '${purpose}'; gpux stores files for the Batch API only.`,
                { param: "purpose", code: "invalid_value", hint: "Send purpose=batch." },
              )
            : undefined;
        if (problem) {
          await files.delete(file.id);
          throw problem;
        }
        resolve(file);
      } catch (error) {
        reject(error);
      }
    });
    (request.body as Readable).pipe(parser);
  });
}

/** POST/GET/DELETE /v1/files: the files of the Batch API (inputs uploaded, outputs written by batches). */
export function registerFileRoutes(scope: FastifyInstance, files: BatchFiles): void {
  scope.register(async (uploads) => {
    // the body is streamed to disk by the route, never buffered here
    uploads.addContentTypeParser("multipart/form-data", (_request, payload, done) => done(null, payload));
    uploads.post(
      "/files",
      { schema: { summary: "Upload a JSONL file for the Batch API (multipart: file, purpose=batch)", tags } },
      async (request) => {
        if (!request.headers["content-type"]?.startsWith("multipart/form-data")) {
          throw badUpload(
            "Upload files as multipart/form-data.",
            "Send the form fields 'file' and 'purpose'.",
            415,
          );
        }
        return receiveUpload(request, files);
      },
    );
  });
  scope.get("/files", { schema: { summary: "The stored files, newest first", tags } }, async () => {
    const data = await files.list();
    return { object: "list", data, has_more: false };
  });
  scope.get<{ Params: { id: string } }>(
    "/files/:id",
    { schema: { summary: "One file object", tags } },
    async (request) => files.get(request.params.id),
  );
  scope.get<{ Params: { id: string } }>(
    "/files/:id/content",
    { schema: { summary: "A file's bytes (a batch's output: one JSON answer per line)", tags } },
    async (request, reply) => {
      const file = await files.get(request.params.id);
      return reply
        .type("application/jsonl")
        .header("content-length", file.bytes)
        .send(createReadStream(files.contentPath(file.id)));
    },
  );
  scope.delete<{ Params: { id: string } }>(
    "/files/:id",
    { schema: { summary: "Delete a file", tags } },
    async (request) => {
      await files.delete(request.params.id);
      return { id: request.params.id, object: "file", deleted: true };
    },
  );
}
