import type { FastifyReply } from "fastify";
import type { GenerationSummary } from "../../../engine/generation/generator.js";
import type { Sequence } from "../../generate-text.js";
import { openAiAnswerFor } from "../../openai-error.js";
import { openEventStream } from "../../sse-writer.js";
import {
  type AnswerHead,
  chatChunk,
  finishReason,
  textChunk,
  usageChunk,
  usageOf,
} from "./generation-objects.js";
import type { GenerationRequest } from "./generation-request.js";

/**
 * Stream the answer as OpenAI does: `chat.completion.chunk`s (the role in the first delta, text deltas, the
 * finish_reason in the last) or `text_completion` chunks per choice (the prompt first with `echo`), then a
 * usage chunk when stream_options.include_usage, then `data: [DONE]`. Tokens whose text is still held back
 * (an unfinished character, a possible stop string) send nothing. A failure midway is one error event, then
 * `[DONE]`; it is returned, as the status line has already gone out.
 */
export async function streamAnswer(
  reply: FastifyReply,
  request: GenerationRequest,
  head: AnswerHead,
  sequences: readonly Sequence[],
): Promise<Error | undefined> {
  const stream = openEventStream(reply);
  const usage = request.includeUsage;
  const summaries: GenerationSummary[] = [];
  try {
    if (request.kind === "chat") {
      const sequence = sequences[0] as Sequence;
      await stream.send(chatChunk(head, { role: "assistant", content: "" }, null, usage));
      for await (const event of sequence) {
        if (event.type === "done") {
          summaries.push(event);
          await stream.send(chatChunk(head, {}, finishReason(event.reason), usage));
        } else if (event.text !== "") {
          await stream.send(chatChunk(head, { content: event.text }, null, usage));
        }
      }
    } else {
      const prompts = request.prompts;
      // the choices stream side by side, each chunk naming its choice's index
      await Promise.all(
        sequences.map(async (sequence, index) => {
          if (request.echo) await stream.send(textChunk(head, index, prompts[index] as string, null, usage));
          for await (const event of sequence) {
            if (event.type === "done") {
              summaries.push(event);
              await stream.send(textChunk(head, index, "", finishReason(event.reason), usage));
            } else if (event.text !== "") {
              await stream.send(textChunk(head, index, event.text, null, usage));
            }
          }
        }),
      );
    }
    const object = request.kind === "chat" ? "chat.completion.chunk" : "text_completion";
    if (usage) await stream.send(usageChunk(head, object, usageOf(summaries)));
    stream.end();
    return undefined;
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    stream.fail(openAiAnswerFor(failure).body);
    // the other choices stop too
    await Promise.allSettled(sequences.map((sequence) => sequence.return(undefined)));
    return failure;
  }
}
