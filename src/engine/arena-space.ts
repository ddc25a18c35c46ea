import type { NumericTensorData, TypedArrayConstructor } from "../onnx/dtypes.js";

/** Every tensor in the arena starts on a cache line (and so on any element size). */
const arenaAlignment = 64;

/** Room for one tensor of `length` elements, or undefined when there is none (then it goes elsewhere). */
export type ArenaAllocate = (array: TypedArrayConstructor, length: number) => NumericTensorData | undefined;

/** A range of the arena, [from, to) in bytes. */
export interface ArenaSpan {
  from: number;
  to: number;
}

/**
 * Hands out one free span of an arena front to back, each tensor aligned: one batch's inputs (the server) or
 * outputs (the inference process). `copiedBytes` counts what was copied in rather than written in place.
 */
export class ArenaCursor {
  private next: number;
  copiedBytes = 0;

  constructor(
    readonly arena: ArrayBuffer,
    readonly span: ArenaSpan,
  ) {
    this.next = span.from;
  }

  /** Where the tensors handed out so far end. */
  get end(): number {
    return this.next;
  }

  /** `bytes` bytes at the next aligned offset, or undefined past the span's end. */
  take(bytes: number): number | undefined {
    const at = Math.ceil(this.next / arenaAlignment) * arenaAlignment;
    if (at + bytes > this.span.to) return undefined;
    this.next = at + bytes;
    return at;
  }

  readonly allocate: ArenaAllocate = (array, length) => {
    const at = this.take(length * array.BYTES_PER_ELEMENT);
    return at === undefined ? undefined : (new array(this.arena, at, length) as NumericTensorData);
  };

  /** True when `data` already lies in this arena (written in place: nothing to copy). */
  holds(data: ArrayBufferView): boolean {
    return data.buffer === this.arena;
  }
}

/**
 * Which parts of one worker's arena are held by answers the server still reads in place: a batch's outputs
 * stay in the arena until every request of the batch has encoded its answer and released them. The next batch
 * gets the largest span nobody holds, so a worker never waits for slow readers of the last one; with no room
 * left, tensors take the pipe (still correct, only slower).
 */
export class ArenaLedger {
  private readonly held: ArenaSpan[] = [];

  constructor(private readonly size: number) {}

  /** Bytes held now (0 once every answer has been encoded: tests and leaks). */
  get heldBytes(): number {
    return this.held.reduce((sum, span) => sum + span.to - span.from, 0);
  }

  /** The largest span no answer holds. */
  freeSpan(): ArenaSpan {
    const sorted = [...this.held].sort((a, b) => a.from - b.from);
    let best: ArenaSpan = { from: 0, to: 0 };
    let start = 0;
    for (const span of [...sorted, { from: this.size, to: this.size }]) {
      if (span.from - start > best.to - best.from) best = { from: start, to: span.from };
      start = Math.max(start, span.to);
    }
    return best;
  }

  /** Hold `span` until the returned function is called (more calls do nothing). */
  hold(span: ArenaSpan): () => void {
    if (span.to <= span.from) return () => undefined;
    this.held.push(span);
    return () => {
      const index = this.held.indexOf(span);
      if (index >= 0) this.held.splice(index, 1);
    };
  }
}
