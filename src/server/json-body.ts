import type { FastifyInstance } from "fastify";
import { UserError } from "../util/errors.js";

/** A body that arrived whole but is not JSON; answered 400 by the preValidation hook below. */
class UnparsableBody {
  constructor(readonly message: string) {}
}

/**
 * Parse JSON bodies with Fastify's own parser (prototype-poisoning checks included), but answer a bad body as
 * an ordinary 400 instead of a parser error: Fastify closes the connection after a parser error, which costs
 * keep-alive clients a reconnect (and load tools their accounting) for a body that was read completely.
 */
export function registerJsonBodyParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser("error", "error");
  // only JSON is accepted: any other body (text/plain included, which Fastify parses by default) gets 415
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    if (body === "") {
      done(null, new UnparsableBody("The request body is empty; send a JSON object."));
      return;
    }
    parse(request, String(body), (error, value) =>
      done(
        null,
        error ? new UnparsableBody(`The request body is not valid JSON (${error.message}).`) : value,
      ),
    );
  });
  app.addHook("preValidation", async (request) => {
    if (request.body instanceof UnparsableBody) {
      throw new UserError(request.body.message, {
        hint: 'Send a JSON object, e.g. {"input_name": [[1, 2, 3]]}.',
      });
    }
  });
}
