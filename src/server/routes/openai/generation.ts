import type { FastifyInstance, FastifyReply } from "fastify";
import type { GenerationInput } from "../../../engine/generation/generator.js";
import type { SamplingRequest } from "../../../engine/generation/sampling.js";
import { clientGone, finishSequence, startSequences } from "../../generate-text.js";
import type { ServerContext } from "../../server-context.js";
import { answerHead, chatCompletion, textCompletion } from "./generation-objects.js";
import {
  type GenerationRequest,
  parseChatCompletionRequest,
  parseCompletionRequest,
  type SamplingSettings,
} from "./generation-request.js";
import { streamAnswer } from "./generation-stream.js";
import { readBody } from "./read-fields.js";
import { modelFor } from "./served-models.js";

const generationTasks: ReadonlySet<string> = new Set(["text-generation"]);

/** What the engine reads: a chat as messages (the model's template renders them), each prompt as it is. */
function inputsOf(request: GenerationRequest): GenerationInput[] {
  return request.kind === "chat"
    ? [{ messages: request.messages.map((message) => ({ ...message })) }]
    : request.prompts.map((prompt) => ({ prompt }));
}

/** OpenAI's sampling fields in the engine's terms; what the request leaves out, the model's defaults fill. */
function samplingOf(settings: SamplingSettings): SamplingRequest {
  return {
    maxTokens: settings.maxTokens,
    temperature: settings.temperature,
    topP: settings.topP,
    seed: settings.seed,
    stop: settings.stop,
  };
}

/**
 * Answer a parsed generation request: validated in full first (so clients learn about a bad field whatever
 * the model), then the model's task checked, then one sequence per prompt admitted by the model's scheduler.
 */
async function answer(
  ctx: ServerContext,
  request: GenerationRequest,
  route: string,
  reply: FastifyReply,
): Promise<unknown> {
  const model = modelFor(ctx, request.model, route, generationTasks, "a text-generation model");
  const signal = clientGone(reply);
  return ctx.record(model, async () => {
    const sequences = await startSequences(
      ctx,
      model,
      inputsOf(request),
      samplingOf(request.sampling),
      signal,
    );
    const head = answerHead(request.kind, model.name);
    if (request.stream) {
      const failure = await streamAnswer(reply, request, head, sequences);
      if (failure) throw failure;
      return reply;
    }
    const summaries = await Promise.all(sequences.map(finishSequence));
    return request.kind === "chat"
      ? chatCompletion(head, summaries[0] as (typeof summaries)[0])
      : textCompletion(head, request.prompts, summaries, request.echo);
  });
}

/** POST /v1/chat/completions and /v1/completions, non-streamed or as server-sent events. */
export function registerGenerationRoutes(scope: FastifyInstance, ctx: ServerContext): void {
  const tags = ["OpenAI-compatible"];
  const handle = async (request: GenerationRequest, route: string, reply: FastifyReply) => {
    try {
      return await answer(ctx, request, route, reply);
    } catch (error) {
      // a stream that failed midway has written its error event already (and it is counted as failed)
      if (reply.sent) return reply;
      throw error;
    }
  };
  scope.post(
    "/chat/completions",
    { schema: { summary: "OpenAI chat completions (text-generation models), streamed or not", tags } },
    async (request, reply) =>
      handle(parseChatCompletionRequest(readBody(request.body)), "/v1/chat/completions", reply),
  );
  scope.post(
    "/completions",
    { schema: { summary: "OpenAI text completions (text-generation models), streamed or not", tags } },
    async (request, reply) =>
      handle(parseCompletionRequest(readBody(request.body)), "/v1/completions", reply),
  );
}
