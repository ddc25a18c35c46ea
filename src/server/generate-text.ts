import type { FastifyReply } from "fastify";
import type { GenerationEvent, GenerationInput, GenerationSummary } from "../engine/generation/generator.js";
import type { SamplingRequest } from "../engine/generation/sampling.js";
import type { ServedModel } from "../engine/served-model.js";
import { deadlineError, generationDeadlineError, type ServerContext } from "./server-context.js";

/** A sequence's events after its first one; its generator is closed when the consumer stops early. */
export type Sequence = AsyncGenerator<GenerationEvent>;

/**
 * Aborted when the client goes away before its answer is complete (a closed connection), so its sequences
 * stop decoding and free their slots. A stream's answer is the same response, so this covers streams too.
 */
export function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  const raw = reply.raw;
  raw.once("close", () => {
    if (!raw.writableEnded) controller.abort(new Error("the client closed the connection"));
  });
  return controller.signal;
}

/**
 * The events after the first. A sequence its deadline ended (`late` aborted with the 504 as its reason) ends
 * with that error instead of its summary, so a non-streamed answer is a 504 and a stream its error event.
 */
async function* follow(
  ctx: ServerContext,
  model: ServedModel,
  first: IteratorResult<GenerationEvent>,
  events: AsyncGenerator<GenerationEvent>,
  late: AbortSignal,
  stopClock: () => void,
): Sequence {
  try {
    let next = first;
    while (!next.done) {
      const event = next.value;
      if (event.type === "done") {
        ctx.metrics.recordSequence(model, {
          promptTokens: event.promptRead ? event.promptTokens : 0,
          generatedTokens: event.tokenIds.length,
          decodeSeconds: event.decodeMs / 1000,
        });
        if (event.reason === "abort" && late.aborted) throw late.reason;
      }
      yield event;
      next = await events.next();
    }
  } finally {
    stopClock();
    await events.return(undefined);
  }
}

/**
 * Admit one sequence and wait for its first event, so that whatever refuses a request is thrown before an
 * answer starts: a full scheduler (429), a prompt too long for the context (400), a model not ready (503), no
 * first token within timeout_ms (504, and the sequence is ended). From its arrival the whole answer has
 * generation_timeout_ms. Records the time to the first token, and the sequence's tokens when it ends.
 */
async function startSequence(
  ctx: ServerContext,
  model: ServedModel,
  input: GenerationInput,
  sampling: SamplingRequest,
  signal: AbortSignal,
): Promise<Sequence> {
  const arrived = performance.now();
  // aborted with the 504 to answer: whichever deadline passes first ends the sequence at its next step
  const late = new AbortController();
  const events = model
    .generator()
    .submit({ input, sampling, signal: AbortSignal.any([signal, late.signal]) });
  const whole = setTimeout(
    () => late.abort(generationDeadlineError(model)),
    model.options.generationTimeoutMs,
  );
  // cleared when the sequence ends; one whose consumer never read it must not keep the process alive for it
  whole.unref();
  const stopClock = () => clearTimeout(whole);
  let firstTimer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    late.signal.addEventListener("abort", () => reject(late.signal.reason), { once: true });
    firstTimer = setTimeout(() => late.abort(deadlineError(model)), model.options.timeoutMs);
  });
  let first: IteratorResult<GenerationEvent>;
  try {
    first = await Promise.race([events.next(), deadline]);
  } catch (error) {
    stopClock();
    // ended by its signal; the generator finishes (and frees its slot) in the background
    void events.return(undefined).catch(() => undefined);
    throw error;
  } finally {
    clearTimeout(firstTimer);
  }
  ctx.metrics.recordFirstToken(model, (performance.now() - arrived) / 1000);
  return follow(ctx, model, first, events, late.signal, stopClock);
}

/**
 * Start one sequence per input (a completions request may hold several prompts). They are admitted in order;
 * when one is refused the others are ended and the refusal is thrown, so a request is answered whole or not.
 */
export async function startSequences(
  ctx: ServerContext,
  model: ServedModel,
  inputs: readonly GenerationInput[],
  sampling: SamplingRequest,
  signal: AbortSignal,
): Promise<Sequence[]> {
  const cancel = new AbortController();
  const both = AbortSignal.any([signal, cancel.signal]);
  // no await between the submissions: each is admitted (or refused) before the next is looked at
  const started = await Promise.allSettled(
    inputs.map((input) => startSequence(ctx, model, input, sampling, both)),
  );
  const refused = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
  if (!refused) return started.map((s) => (s as PromiseFulfilledResult<Sequence>).value);
  cancel.abort(new Error("another prompt of the request was refused"));
  // run to their end (the next step, as they are aborted): return() on a sequence not yet iterated would
  // leave its generator holding a slot
  for (const s of started) if (s.status === "fulfilled") void finishSequence(s.value).catch(() => undefined);
  throw refused.reason;
}

/** Run a sequence to its end; its summary (the text, the reason, the token counts). */
export async function finishSequence(sequence: Sequence): Promise<GenerationSummary> {
  for await (const event of sequence) if (event.type === "done") return event;
  throw new Error("a generation ended without its summary");
}
