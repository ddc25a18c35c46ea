import type { FastifyInstance, FastifyRequest } from "fastify";
import { UserError } from "../util/errors.js";

/**
 * Why a body that arrived whole is refused. Fastify's parser gives one message for bad JSON and for JSON
 * whose `__proto__` / `constructor.prototype` keys it refuses; a plain parse (only on this error path) tells
 * them apart, so a client is never told that valid JSON is invalid.
 */
function bodyProblem(text: string): string {
  try {
    JSON.parse(text);
  } catch (syntax) {
    return `The request body is not valid JSON (${(syntax as Error).message}).`;
  }
  return `The request body holds a "__proto__" or "constructor.prototype" key, which gpux refuses (prototype poisoning).`;
}

const jsonHint = 'Send a JSON object, e.g. {"input_name": [[1, 2, 3]]}.';

/** A body that arrived whole but cannot be read; answered 400 by the preValidation hook below. */
export class UnparsableBody {
  constructor(
    readonly message: string,
    readonly hint = jsonHint,
  ) {}
}

/** JSON bytes → the value, or why they are refused. */
export type JsonBytesParser = (
  request: FastifyRequest,
  bytes: Uint8Array,
  done: (value: unknown) => void,
) => void;

/**
 * Fastify's own JSON parser (prototype-poisoning checks included) over bytes, for the JSON body and for the
 * JSON header of a binary OIP body (oip-binary-body.ts).
 */
export function jsonBytesParser(app: FastifyInstance): JsonBytesParser {
  const parse = app.getDefaultJsonParser("error", "error");
  // Fatal: bytes that are not UTF-8 are refused, where a plain decode would turn them into U+FFFD silently.
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  return (request, bytes, done) => {
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      done(new UnparsableBody("The request body is not valid UTF-8."));
      return;
    }
    if (text === "") {
      done(new UnparsableBody("The request body is empty; send a JSON object."));
      return;
    }
    parse(request, text, (error, value) => done(error ? new UnparsableBody(bodyProblem(text)) : value));
  };
}

/**
 * Parse JSON bodies with Fastify's own parser, but answer a bad body as an ordinary 400 instead of a parser
 * error: Fastify closes the connection after a parser error, which costs keep-alive clients a reconnect (and
 * load tools their accounting) for a body that was read completely.
 */
export function registerJsonBodyParser(app: FastifyInstance): void {
  const parseJson = jsonBytesParser(app);
  // only JSON is accepted: any other body (text/plain included, which Fastify parses by default) gets 415
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (request, body, done) => {
    parseJson(request, body as Buffer, (value) => done(null, value));
  });
  app.addHook("preValidation", async (request) => {
    if (request.body instanceof UnparsableBody) {
      throw new UserError(request.body.message, { hint: request.body.hint });
    }
  });
}
