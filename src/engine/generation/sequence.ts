import type { StreamDecoder } from "../../pipeline/text/stream-decoder.js";
import type { FinishReason, GenerationEvent } from "./generator.js";
import { type LogitsRow, Sampler } from "./sampler.js";
import type { ResolvedSampling } from "./sampling.js";
import { seededRandom } from "./seeded-random.js";
import { StopStrings } from "./stop-strings.js";

/**
 * One answer being generated, whoever runs its forward passes (TextGenerator's solo loop, or the decode loop
 * that batches several): it takes the logits of each next position and gives the events they make (sampling,
 * EOS, stop strings, streamed text, max_tokens, timings), so both loops stop and report alike.
 */
export class Sequence {
  private readonly sampler: Sampler;
  private readonly seen: Set<number>;
  private readonly stops: StopStrings;
  private readonly tokenIds: number[] = [];
  private text = "";
  private firstAt = 0;
  private lastAt = 0;
  private read = false;
  private ended = false;

  /**
   * @param promptIds what the prefill reads.
   * @param started when the request came (time to first token counts from it, waiting included).
   */
  constructor(
    readonly promptIds: readonly number[],
    private readonly sampling: ResolvedSampling,
    private readonly stream: StreamDecoder,
    private readonly eosIds: ReadonlySet<number>,
    private readonly started = performance.now(),
  ) {
    this.sampler = new Sampler(sampling, seededRandom(sampling.seed));
    this.seen = new Set<number>(sampling.repetitionPenalty === 1 ? [] : promptIds);
    this.stops = new StopStrings(sampling.stop);
  }

  /** True once the done event was given; no more logits are wanted. */
  get finished(): boolean {
    return this.ended;
  }

  /** The token the next forward pass reads (the last one chosen). */
  get lastToken(): number {
    return this.tokenIds[this.tokenIds.length - 1] as number;
  }

  /** Choose the next token from the logits of the position after everything read so far. */
  accept(logits: LogitsRow): GenerationEvent[] {
    const id = this.sampler.pick(logits, this.seen.size > 0 ? [...this.seen] : []);
    this.lastAt = performance.now();
    this.read = true;
    if (this.tokenIds.length === 0) this.firstAt = this.lastAt;
    if (this.eosIds.has(id) && !this.sampling.ignoreEos) return this.finish("stop");
    this.tokenIds.push(id);
    if (this.sampling.repetitionPenalty !== 1) this.seen.add(id);
    const shown = this.stops.push(this.stream.push(id));
    this.text += shown.text;
    const token: GenerationEvent = { type: "token", id, text: shown.text };
    if (shown.stopped) return [token, this.summary("stop")];
    if (this.tokenIds.length >= this.sampling.maxTokens) return [token, ...this.finish("length")];
    return [token];
  }

  /** End now (the client is gone or gave up): what is held back, then done with reason abort. */
  abort(): GenerationEvent[] {
    return this.finish("abort");
  }

  /** Text still held back (an unfinished character, a possible stop string), then the done event. */
  private finish(reason: FinishReason): GenerationEvent[] {
    const rest = this.stops.push(this.stream.finish());
    const tail = rest.text + (rest.stopped ? "" : this.stops.flush());
    this.text += tail;
    const done = this.summary(reason);
    return tail === "" ? [done] : [{ type: "text", text: tail }, done];
  }

  private summary(reason: FinishReason): GenerationEvent {
    this.ended = true;
    const count = this.tokenIds.length;
    const decodeMs = count > 1 ? this.lastAt - this.firstAt : 0;
    return {
      type: "done",
      reason,
      text: this.text,
      promptTokens: this.promptIds.length,
      promptRead: this.read,
      tokenIds: this.tokenIds,
      seed: this.sampling.seed,
      timeToFirstTokenMs: (this.firstAt || performance.now()) - this.started,
      decodeMs,
      decodeTokensPerSecond: decodeMs > 0 ? ((count - 1) * 1000) / decodeMs : 0,
    };
  }
}
