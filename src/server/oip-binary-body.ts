import type { FastifyInstance, FastifyRequest } from "fastify";
import { jsonBytesParser, UnparsableBody } from "./json-body.js";

/** Triton's header giving the byte length of the JSON object that starts a binary body. */
export const inferenceHeaderLength = "inference-header-content-length";
export const binaryMediaType = "application/octet-stream";

/** The bytes after the JSON header, per parsed request (the schema validates the header alone). */
const tensorBytes = new WeakMap<FastifyRequest, Buffer>();

/** The binary tensor data that followed the JSON header; undefined for a plain JSON request. */
export function binaryTensorData(request: FastifyRequest): Buffer | undefined {
  return tensorBytes.get(request);
}

/** True when the body is read as binary OIP (and so under the binary body limit). */
export function isBinaryBody(request: FastifyRequest): boolean {
  return request.headers["content-type"]?.split(";")[0]?.trim().toLowerCase() === binaryMediaType;
}

const lengthHint =
  "Set Inference-Header-Content-Length to the byte length of the JSON object that starts the body; the tensors' bytes follow it.";

/** The header length from its HTTP header, or why it cannot be used with a body of `size` bytes. */
function headerLength(value: string | string[] | undefined, size: number): number | UnparsableBody {
  if (value === undefined) {
    return new UnparsableBody(
      `A ${binaryMediaType} body needs an Inference-Header-Content-Length header.`,
      lengthHint,
    );
  }
  const text = Array.isArray(value) ? value.join(", ") : value.trim();
  if (!/^\d+$/.test(text)) {
    return new UnparsableBody(`Inference-Header-Content-Length is '${text}', not a byte count.`, lengthHint);
  }
  const length = Number(text);
  if (length > size) {
    return new UnparsableBody(
      `Inference-Header-Content-Length is ${length}, past the end of the ${size}-byte body.`,
      lengthHint,
    );
  }
  return length;
}

/**
 * Triton's binary tensor data extension on the OIP routes registered in `scope`: a body carrying
 * Inference-Header-Content-Length is the JSON request followed by raw tensor bytes, whatever its content type
 * says (Triton's clients send application/octet-stream, or none), read under the binary body limit.
 */
export function registerOipBinaryBody(scope: FastifyInstance, bodyLimit: number): void {
  const parseJson = jsonBytesParser(scope);
  // The header, not the content type, says a body is binary: onRequest runs before Fastify picks a parser.
  scope.addHook("onRequest", async (request) => {
    if (request.headers[inferenceHeaderLength] !== undefined) {
      request.raw.headers["content-type"] = binaryMediaType;
    }
  });
  scope.addContentTypeParser(binaryMediaType, { parseAs: "buffer", bodyLimit }, (request, body, done) => {
    const bytes = body as Buffer;
    const length = headerLength(request.headers[inferenceHeaderLength], bytes.length);
    if (length instanceof UnparsableBody) {
      done(null, length);
      return;
    }
    parseJson(request, bytes.subarray(0, length), (value) => {
      if (value instanceof UnparsableBody) {
        done(
          null,
          new UnparsableBody(
            `The first ${length} bytes of the body (Inference-Header-Content-Length) are not the JSON request: ${value.message}`,
            lengthHint,
          ),
        );
        return;
      }
      tensorBytes.set(request, bytes.subarray(length));
      done(null, value);
    });
  });
}
