import { stat } from "node:fs/promises";
import { errorMessage, GpuxError, NotFoundError, RuntimeFailure, UserError } from "../../util/errors.js";
import { OrderedWriter } from "./ordered-writer.js";
import { readLines } from "./read-lines.js";
import { lastRecordedLine } from "./resume-point.js";

/** Answers the requests of a batch; each protocol of model (encoder, generation) has its own. */
export interface BatchAnswerer {
  /** Requests in flight at once: enough to keep the model's batches full, few enough to bound memory. */
  readonly window: number;
  /**
   * The answer to one parsed line (without its `line` field); throws for a request it cannot answer. `signal`
   * aborts when the line is past its time limit: work that can stop (a generation) stops.
   */
  answer(request: unknown, signal?: AbortSignal): Promise<object>;
}

/** Where a batch stands; `bytes` of `totalBytes` of the input are done (resumed lines included). */
export interface BatchProgress {
  answered: number;
  errors: number;
  /** Lines a previous run had written already. */
  resumed: number;
  /** Byte offset where this run started (after the resumed lines). */
  startBytes: number;
  bytes: number;
  totalBytes: number;
}

export interface BatchSummary extends BatchProgress {
  /** Blank lines, skipped. */
  blank: number;
  /** The last input line a previous run had written (0 for a fresh run). */
  resumedAfter: number;
  elapsedMs: number;
}

export interface RunBatchOptions {
  input: string;
  output: string;
  errors: string;
  answerer: BatchAnswerer;
  /** Seconds a line may take from when it is read; past it, it goes to the errors file. Default: no limit. */
  lineTimeoutSeconds?: number;
  /** Called after each line is written. */
  onProgress?: (progress: BatchProgress) => void;
}

/** A line's failure as the errors file records it. */
function lineError(line: number, error: unknown): object {
  if (error instanceof GpuxError) return { line, error: { message: error.message, hint: error.hint } };
  return { line, error: { message: `unexpected failure: ${errorMessage(error)}` } };
}

function parseLine(text: string): unknown {
  let request: unknown;
  try {
    request = JSON.parse(text);
  } catch (error) {
    throw notARequest(`not valid JSON: ${errorMessage(error)}`);
  }
  if (request === null || typeof request !== "object" || Array.isArray(request)) {
    throw notARequest("not a JSON object");
  }
  return request;
}

/**
 * The answer to one line, or a RuntimeFailure once it has run `seconds` (then its signal aborts, so a
 * generation frees its slot; an encoder's batch runs on, its answer unused).
 */
function answerWithin(
  answerer: BatchAnswerer,
  request: unknown,
  seconds: number | undefined,
): Promise<object> {
  if (seconds === undefined) return answerer.answer(request);
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(
        new RuntimeFailure(`The line took longer than its ${seconds} s limit (--line-timeout).`, {
          hint: "Raise --line-timeout, or ask for less (a lower max_tokens).",
        }),
      );
    }, seconds * 1000);
  });
  return Promise.race([answerer.answer(request, controller.signal), late]).finally(() => clearTimeout(timer));
}

const notARequest = (what: string) =>
  new UserError(`The line is ${what}.`, { hint: 'Write one JSON object per line, e.g. {"text": "…"}.' });

/** The batch file's size; a NotFoundError when it cannot be read (checked before a model is loaded, too). */
export async function batchInputSize(path: string): Promise<number> {
  return stat(path).then(
    (s) => s.size,
    (error: unknown) => {
      throw new NotFoundError(`Cannot read batch file '${path}': ${errorMessage(error)}`, {
        hint: "Check the path given to --batch.",
      });
    },
  );
}

/**
 * `gpux run MODEL --batch IN --output OUT`: every line of IN is a request; answers go to OUT in input order,
 * one JSON object per line with its `line` number, and lines that cannot be answered go to the errors file
 * with theirs. The input is streamed: at most `answerer.window` requests are in flight, so memory stays
 * bounded whatever the file's size. Re-running after a kill resumes after the last line written.
 */
export async function runBatch(options: RunBatchOptions): Promise<BatchSummary> {
  const started = performance.now();
  const totalBytes = await batchInputSize(options.input);
  const resumedAfter = Math.max(
    await lastRecordedLine(options.output),
    await lastRecordedLine(options.errors),
  );
  const writer = new OrderedWriter(options.output, options.errors, resumedAfter + 1);
  let startBytes = 0;
  const progress = (): BatchProgress => ({
    answered: writer.written.answers,
    errors: writer.written.errors,
    resumed: resumedAfter,
    startBytes,
    bytes: Math.max(startBytes, writer.writtenEnd),
    totalBytes,
  });
  let inFlight = 0;
  let writeFailure: unknown;
  let wake: (() => void) | undefined;
  const settle = (...args: Parameters<OrderedWriter["settle"]>) => {
    writer.settle(...args);
    options.onProgress?.(progress());
  };
  try {
    for await (const line of readLines(options.input)) {
      if (line.number <= resumedAfter) {
        startBytes = line.end;
        continue;
      }
      if (line.text.trim() === "") {
        settle(line.number, line.end, { blank: true });
        continue;
      }
      // answers that finish early wait in the writer for the lines before them: both count against the window
      while (inFlight + writer.pending >= options.answerer.window) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
      let request: unknown;
      try {
        request = parseLine(line.text);
      } catch (error) {
        settle(line.number, line.end, { error: lineError(line.number, error) });
        continue;
      }
      inFlight++;
      Promise.resolve()
        .then(() => answerWithin(options.answerer, request, options.lineTimeoutSeconds))
        .then(
          (answer) => settle(line.number, line.end, { answer: { line: line.number, ...answer } }),
          (error: unknown) => settle(line.number, line.end, { error: lineError(line.number, error) }),
        )
        // only writing can fail here (a full disk): the batch stops, and a re-run resumes
        .catch((error: unknown) => {
          writeFailure ??= error;
        })
        .finally(() => {
          inFlight--;
          wake?.();
          wake = undefined;
        });
      if (writeFailure) throw writeFailure;
    }
    while (inFlight > 0) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    if (writeFailure) throw writeFailure;
  } finally {
    writer.close();
  }
  return {
    ...progress(),
    blank: writer.written.blank,
    resumedAfter,
    elapsedMs: performance.now() - started,
  };
}
