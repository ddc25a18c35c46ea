import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { checkAnswerSize } from "../../engine/answer-limit.js";
import type { ServedModel } from "../../engine/served-model.js";
import { NotFoundError } from "../../util/errors.js";
import { gpuxVersion } from "../../util/version.js";
import { errorSchema } from "../error-handler.js";
import {
  binaryMediaType,
  binaryTensorData,
  inferenceHeaderLength,
  registerOipBinaryBody,
} from "../oip-binary-body.js";
import {
  binaryOutputNames,
  decodeOipInputs,
  encodeOipOutputs,
  type OipInferRequest,
  oipMetadataTensor,
  selectOutputs,
} from "../oip-codec.js";
import type { ServerContext } from "../server-context.js";

// Values are left untyped: Fastify's type coercion would turn `true` into "true" under a union type.
const parameters = { type: "object", description: "name → string | number | boolean" } as const;
const inferBody = {
  type: "object",
  required: ["inputs"],
  properties: {
    id: { type: "string" },
    parameters,
    // empty for a model without inputs (a graph of constants), as the protocol allows
    inputs: {
      type: "array",
      items: {
        type: "object",
        // `data`, or parameters.binary_data_size with the bytes after the JSON (Triton's binary extension)
        required: ["name", "shape", "datatype"],
        properties: {
          name: { type: "string" },
          shape: { type: "array", items: { type: "integer", minimum: 0 } },
          datatype: { type: "string" },
          data: { type: "array" },
          parameters,
        },
      },
    },
    outputs: {
      type: "array",
      items: { type: "object", required: ["name"], properties: { name: { type: "string" }, parameters } },
    },
  },
} as const;
const statusOnly = { description: "empty body; the status code is the answer" };
const modelParams = {
  type: "object",
  properties: { model: { type: "string" }, version: { type: "string" } },
  required: ["model"],
} as const;
type ModelParams = { model: string; version?: string };
const modelPaths = ["/v2/models/:model", "/v2/models/:model/versions/:version"];

/** The model, checking the version when the path names one (gpux serves one version per model). */
function modelAt(ctx: ServerContext, params: ModelParams): ServedModel {
  const model = ctx.find(params.model);
  if (params.version !== undefined && params.version !== model.version) {
    throw new NotFoundError(`Model '${model.name}' has no version '${params.version}'.`, {
      hint: `Served version: ${model.version}.`,
    });
  }
  return model;
}

/** KServe v2 Open Inference Protocol (REST): health, server and model metadata, readiness, infer. */
export function registerOipRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const tags = ["Open Inference Protocol v2"];
  app.get("/v2", { schema: { summary: "Server metadata", tags } }, async () => ({
    name: "gpux",
    version: gpuxVersion,
    extensions: ["binary_tensor_data"],
  }));
  app.get(
    "/v2/health/live",
    { schema: { summary: "200 while the server runs", tags, response: { 200: statusOnly } } },
    async (_r, reply) => reply.code(200).send(),
  );
  app.get(
    "/v2/health/ready",
    { schema: { summary: "200 when every model is loaded and warmed up; 503 otherwise", tags } },
    async (_r, reply) => reply.code(ctx.ready ? 200 : 503).send(),
  );

  const metadata = async (request: { params: ModelParams }) => {
    const model = modelAt(ctx, request.params);
    return {
      name: model.name,
      versions: [model.version],
      platform: "onnxruntime_onnx",
      inputs: model.inputs.map(oipMetadataTensor),
      outputs: model.outputs.map(oipMetadataTensor),
    };
  };
  const ready = async (request: { params: ModelParams }, reply: FastifyReply) => {
    const model = modelAt(ctx, request.params);
    return reply.code(model.state === "ready" && !ctx.shuttingDown ? 200 : 503).send();
  };
  const infer = async (
    request: FastifyRequest<{ Params: ModelParams; Body: OipInferRequest }>,
    reply: FastifyReply,
  ) => {
    const model = modelAt(ctx, request.params);
    const body = request.body;
    return ctx.measure(model, async () => {
      const names = selectOutputs(body, model.outputs);
      const binary = binaryOutputNames(body, names);
      const feeds = decodeOipInputs(body, model.inputs, binaryTensorData(request));
      const { outputs, release, queueMs, computeMs, batchRows } = await model.infer(feeds);
      try {
        checkAnswerSize(outputs, names, ctx.limits.maxAnswerElements);
        const { tensors, parts } = encodeOipOutputs(outputs, names, binary);
        const answer = {
          model_name: model.name,
          model_version: model.version,
          ...(body.id !== undefined ? { id: body.id } : {}),
          parameters: { batch_rows: batchRows, queue_ms: queueMs, compute_ms: computeMs },
          outputs: tensors,
        };
        if (parts.length === 0) return answer;
        const header = Buffer.from(JSON.stringify(answer));
        reply.header(inferenceHeaderLength, header.length).type(binaryMediaType);
        return Buffer.concat([header, ...parts]); // a copy: the outputs' arena span is released below
      } finally {
        release();
      }
    });
  };

  for (const prefix of modelPaths) {
    app.get<{ Params: ModelParams }>(
      prefix,
      {
        schema: {
          summary: "Model metadata: inputs and outputs with datatypes and shapes (-1 = any)",
          tags,
          params: modelParams,
          response: { 404: errorSchema },
        },
      },
      metadata,
    );
    app.get<{ Params: ModelParams }>(
      `${prefix}/ready`,
      {
        schema: {
          summary: "200 when the model is ready; 503 otherwise",
          tags,
          params: modelParams,
          response: { 404: errorSchema },
        },
      },
      ready,
    );
  }
  // Binary bodies are read only here, under their own limit (a child scope keeps the parser to these routes).
  app.register(async (scope) => {
    registerOipBinaryBody(scope, ctx.limits.binaryBodyLimit);
    for (const prefix of modelPaths) {
      scope.post<{ Params: ModelParams; Body: OipInferRequest }>(
        `${prefix}/infer`,
        {
          schema: {
            summary:
              "Inference with JSON tensors of any OIP datatype, or Triton's binary tensor data; `outputs` selects, `id` is echoed",
            tags,
            params: modelParams,
            body: inferBody,
            response: {
              400: errorSchema,
              404: errorSchema,
              429: errorSchema,
              503: errorSchema,
              504: errorSchema,
            },
          },
        },
        infer,
      );
    }
  });
}
