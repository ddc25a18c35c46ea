import { UserError } from "../../util/errors.js";

/** Longest text gpux tokenizes (UTF-16 units): longer requests are refused, not silently truncated. */
export const maxTextLength = 100_000;
/** Most texts in one batched request. */
export const maxBatchItems = 256;

export interface TextItem {
  text: string;
  pair?: string;
}

export interface TextRequest {
  items: TextItem[];
  /** The request sent a list: the answer is a list too. */
  batched: boolean;
  body: Record<string, unknown>;
}

export interface TextRequestShape {
  /** Field of the first text. Default "text". */
  first?: string;
  /** Field of the optional second text. Default "text_pair". */
  second?: string;
  /** The second text must be present (question answering). */
  secondRequired?: boolean;
  /** Other fields this task accepts (e.g. top_k). */
  options?: readonly string[];
}

function checkText(value: unknown, field: string, index?: number): string {
  const where = index === undefined ? `'${field}'` : `'${field}[${index}]'`;
  if (typeof value !== "string") {
    throw new UserError(`${where} must be a string, got ${value === null ? "null" : typeof value}.`, {
      hint: `Send {"${field}": "some text"} or {"${field}": ["text one", "text two"]}.`,
    });
  }
  if (value.trim().length === 0) {
    throw new UserError(`${where} is empty.`, { hint: "Send some text to tokenize." });
  }
  if (value.length > maxTextLength) {
    throw new UserError(
      `${where} is ${value.length} characters long; gpux accepts at most ${maxTextLength} per text.`,
      { hint: "Split the text into smaller pieces and send them as a batch." },
    );
  }
  return value;
}

function readTexts(value: unknown, field: string): { texts: string[]; batched: boolean } {
  if (!Array.isArray(value)) return { texts: [checkText(value, field)], batched: false };
  if (value.length === 0)
    throw new UserError(`'${field}' is an empty list.`, { hint: "Send at least one text." });
  if (value.length > maxBatchItems) {
    throw new UserError(`'${field}' holds ${value.length} texts; at most ${maxBatchItems} per request.`, {
      hint: "Send several smaller requests.",
    });
  }
  return { texts: value.map((item, i) => checkText(item, field, i)), batched: true };
}

/** Validate a text request: `{"text": "…"}`, `{"text": [...]}`, with an optional pair field. */
export function readTextRequest(request: unknown, shape: TextRequestShape = {}): TextRequest {
  const first = shape.first ?? "text";
  const second = shape.second ?? "text_pair";
  const example = shape.secondRequired ? `{"${first}": "…", "${second}": "…"}` : `{"${first}": "…"}`;
  if (!request || typeof request !== "object" || Array.isArray(request)) {
    throw new UserError("The request must be a JSON object.", { hint: `Send ${example}.` });
  }
  const body = request as Record<string, unknown>;
  const allowed = new Set([first, second, ...(shape.options ?? [])]);
  const unknown = Object.keys(body).filter((key) => !allowed.has(key));
  if (unknown.length > 0) {
    throw new UserError(`Unknown field ${unknown.map((k) => `'${k}'`).join(", ")} in the request.`, {
      hint: `This model accepts ${[...allowed].map((k) => `'${k}'`).join(", ")}, or raw tensors named after its inputs.`,
    });
  }
  if (!(first in body))
    throw new UserError(`Missing '${first}' in the request.`, { hint: `Send ${example}.` });
  const { texts, batched } = readTexts(body[first], first);
  if (!(second in body)) {
    if (shape.secondRequired)
      throw new UserError(`Missing '${second}' in the request.`, { hint: `Send ${example}.` });
    return { items: texts.map((text) => ({ text })), batched, body };
  }
  const pairs = readTexts(body[second], second);
  if (pairs.batched !== batched || pairs.texts.length !== texts.length) {
    throw new UserError(`'${first}' and '${second}' must both be strings, or lists of the same length.`, {
      hint: `Send ${example}.`,
    });
  }
  return { items: texts.map((text, i) => ({ text, pair: pairs.texts[i] })), batched, body };
}

/** A positive integer option from the request, else the fallback. */
export function readTopK(body: Record<string, unknown>, fallback: number | undefined): number | undefined {
  const value = body.top_k;
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new UserError(`'top_k' must be a positive integer, got ${JSON.stringify(value)}.`, {
      hint: 'Send e.g. "top_k": 3, or leave it out.',
    });
  }
  return value;
}
