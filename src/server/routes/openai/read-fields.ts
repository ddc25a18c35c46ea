import { OpenAiRequestError } from "../../openai-error.js";

/** A request body as a field map, checked once at the start of every route. */
export type Body = Record<string, unknown>;

const describe = (value: unknown) =>
  value === null ? "null" : Array.isArray(value) ? "a list" : typeof value;

function wrongType(param: string, expected: string, value: unknown): OpenAiRequestError {
  return new OpenAiRequestError(`'${param}' must be ${expected}, got ${describe(value)}.`, {
    param,
    code: "invalid_type",
  });
}

/** The body as an object; anything else (a list, a number) is a 400. */
export function readBody(value: unknown): Body {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new OpenAiRequestError("The request body must be a JSON object.", { code: "invalid_json" });
  }
  return value as Body;
}

/**
 * Refuse fields this route does not know, as OpenAI's API does, so a setting is never silently ignored;
 * `ignored` are accepted and have no effect on the answer (such as `user`, an end-user id for abuse reports).
 */
export function checkKnownFields(
  body: Body,
  known: readonly string[],
  ignored: readonly string[] = [],
): void {
  const allowed = new Set([...known, ...ignored]);
  const unknown = Object.keys(body).filter((key) => !allowed.has(key));
  if (unknown.length > 0) {
    throw new OpenAiRequestError(`Unrecognized request argument supplied: ${unknown.join(", ")}.`, {
      param: unknown[0],
      code: "unknown_parameter",
      hint: `This route accepts ${known.join(", ")}.`,
    });
  }
}

export function requireField(body: Body, param: string): unknown {
  const value = body[param];
  if (value === undefined || value === null) {
    throw new OpenAiRequestError(`Missing required parameter: '${param}'.`, {
      param,
      code: "missing_required_parameter",
    });
  }
  return value;
}

export function readString(body: Body, param: string): string | undefined {
  const value = body[param];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw wrongType(param, "a string", value);
  return value;
}

export function requireString(body: Body, param: string): string {
  const value = requireField(body, param);
  if (typeof value !== "string") throw wrongType(param, "a string", value);
  if (value.length === 0) {
    throw new OpenAiRequestError(`'${param}' is empty.`, { param, code: "invalid_value" });
  }
  return value;
}

export function readBoolean(body: Body, param: string): boolean | undefined {
  const value = body[param];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") throw wrongType(param, "true or false", value);
  return value;
}

/** A number in [min, max]; integers only when `integer`. */
export function readNumber(
  body: Body,
  param: string,
  range: { min?: number; max?: number; integer?: boolean },
): number | undefined {
  const value = body[param];
  if (value === undefined || value === null) return undefined;
  const kind = range.integer ? "an integer" : "a number";
  if (typeof value !== "number" || !Number.isFinite(value) || (range.integer && !Number.isInteger(value))) {
    throw wrongType(param, kind, value);
  }
  if ((range.min !== undefined && value < range.min) || (range.max !== undefined && value > range.max)) {
    const bounds =
      range.max === undefined
        ? `≥ ${range.min}`
        : range.min === undefined
          ? `≤ ${range.max}`
          : `between ${range.min} and ${range.max}`;
    throw new OpenAiRequestError(`'${param}' must be ${kind} ${bounds}, got ${value}.`, {
      param,
      code: "invalid_value",
    });
  }
  return value;
}

/** A string or a list of strings (OpenAI's `stop`, rerank `documents`), as a list; at most `max` items. */
export function readStringList(value: unknown, param: string, max: number): string[] {
  const list = typeof value === "string" ? [value] : value;
  if (!Array.isArray(list) || !list.every((item) => typeof item === "string")) {
    throw wrongType(param, "a string or a list of strings", value);
  }
  if (list.length > max) {
    throw new OpenAiRequestError(`'${param}' holds ${list.length} items; at most ${max} are accepted.`, {
      param,
      code: "invalid_value",
    });
  }
  return list;
}
