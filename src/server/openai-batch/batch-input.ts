import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { BatchError } from "./batch-jobs.js";

/** One request of a batch input file, as OpenAI's Batch API defines its lines. */
export interface BatchRequestLine {
  /** 1-based line number in the input file. */
  line: number;
  custom_id: string;
  url: string;
  body: Record<string, unknown>;
}

/** The most line errors a failed validation reports (a file of a million bad lines needs no million). */
const maxReportedErrors = 100;

const lineError = (line: number, message: string, param: string | null = null): BatchError => ({
  code: "invalid_request",
  message,
  param,
  line,
});

/** Read a line into a request, or say what is wrong with it. */
export function parseBatchLine(
  text: string,
  line: number,
  endpoint: string,
): { request: BatchRequestLine } | { error: BatchError } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { error: lineError(line, `Line ${line} is not valid JSON (${(error as Error).message}).`) };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { error: lineError(line, `Line ${line} must be a JSON object.`) };
  }
  const fields = value as Record<string, unknown>;
  if (typeof fields.custom_id !== "string" || fields.custom_id === "") {
    return { error: lineError(line, `Line ${line} needs a 'custom_id' string.`, "custom_id") };
  }
  if (fields.method !== "POST") {
    return { error: lineError(line, `Line ${line}: 'method' must be "POST".`, "method") };
  }
  if (fields.url !== endpoint) {
    const message = `Line ${line}: 'url' is ${JSON.stringify(fields.url)}, but this batch's endpoint is ${endpoint}.`;
    return { error: lineError(line, message, "url") };
  }
  const body = fields.body;
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return { error: lineError(line, `Line ${line} needs a 'body' object (the request).`, "body") };
  }
  if ((body as Record<string, unknown>).stream === true) {
    return { error: lineError(line, `Line ${line}: a batch request cannot stream.`, "body.stream") };
  }
  return {
    request: { line, custom_id: fields.custom_id, url: endpoint, body: body as Record<string, unknown> },
  };
}

/** The lines of a file that hold something (blank lines are skipped, as JSONL readers do), streamed. */
export async function* batchLines(path: string): AsyncGenerator<{ text: string; line: number }> {
  const reader = createInterface({
    input: createReadStream(path, "utf8"),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  let line = 0;
  for await (const text of reader) {
    line++;
    if (text.trim() !== "") yield { text, line };
  }
}

/**
 * Check a whole input file before anything runs, as OpenAI's "validating" step does: every line a request to
 * the batch's endpoint, custom_ids unique. Streams the file; holds only the ids.
 */
export async function validateBatchInput(
  path: string,
  endpoint: string,
): Promise<{ total: number; errors: BatchError[] }> {
  const ids = new Set<string>();
  const errors: BatchError[] = [];
  let total = 0;
  for await (const { text, line } of batchLines(path)) {
    total++;
    const parsed = parseBatchLine(text, line, endpoint);
    let error = "error" in parsed ? parsed.error : undefined;
    if ("request" in parsed) {
      const id = parsed.request.custom_id;
      if (ids.has(id)) error = lineError(line, `Line ${line}: custom_id '${id}' is used twice.`, "custom_id");
      ids.add(id);
    }
    if (error && errors.length < maxReportedErrors) errors.push(error);
  }
  if (total === 0)
    errors.push({ code: "empty_file", message: "The input file has no requests.", param: null, line: null });
  return { total, errors };
}
