import { fromFloat16Bits } from "../../onnx/float16.js";

/** How the next token is chosen from the logits; `temperature` 0 = greedy. */
export interface SamplerSettings {
  temperature: number;
  /** 0 = off. */
  topK: number;
  /** 1 = off. */
  topP: number;
  /** 0 = off. */
  minP: number;
  /** 1 = off. */
  repetitionPenalty: number;
}

/** The logits of one position: float32, or float16 bits from fp16 graphs. */
export type LogitsRow = { data: Float32Array | Uint16Array; offset: number; vocab: number };

/** Indices of the k largest values of row, largest first (a min-heap of size k: O(V log k)). */
function topKIndices(row: Float32Array, k: number): number[] {
  const heap: number[] = [];
  const less = (a: number, b: number) => (row[a] as number) < (row[b] as number);
  const down = (start: number) => {
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(heap[l] as number, heap[m] as number)) m = l;
      if (r < heap.length && less(heap[r] as number, heap[m] as number)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m] as number, heap[i] as number];
      i = m;
    }
  };
  for (let id = 0; id < row.length; id++) {
    if (heap.length < k) {
      heap.push(id);
      let i = heap.length - 1;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!less(heap[i] as number, heap[parent] as number)) break;
        [heap[i], heap[parent]] = [heap[parent] as number, heap[i] as number];
        i = parent;
      }
    } else if ((row[id] as number) > (row[heap[0] as number] as number)) {
      heap[0] = id;
      down(0);
    }
  }
  return heap.sort((a, b) => (row[b] as number) - (row[a] as number) || a - b);
}

/** Index of the largest value (the first one on ties, as torch.argmax). */
function argmax(data: ArrayLike<number>, offset: number, length: number): number {
  let best = 0;
  let bestValue = data[offset] as number;
  for (let i = 1; i < length; i++) {
    const value = data[offset + i] as number;
    if (value > bestValue) {
      bestValue = value;
      best = i;
    }
  }
  return best;
}

/**
 * Chooses tokens as transformers' logits processors do, in their order: repetition penalty, temperature,
 * top-k, top-p, min-p, then one draw from the renormalised rest. Buffers are sized to the vocabulary once.
 */
export class Sampler {
  private row = new Float32Array(0);
  private probs = new Float32Array(0);
  private vocabSize = 0;

  constructor(
    private readonly settings: SamplerSettings,
    private readonly random: () => number,
  ) {}

  get greedy(): boolean {
    return this.settings.temperature === 0;
  }

  /** The next token; `seen` lists each token already in the text once (for the repetition penalty). */
  pick(logits: LogitsRow, seen: readonly number[]): number {
    const { temperature, repetitionPenalty } = this.settings;
    const size = logits.vocab;
    if (this.greedy && repetitionPenalty === 1 && logits.data instanceof Float32Array) {
      return argmax(logits.data, logits.offset, size);
    }
    if (this.vocabSize !== size) {
      this.vocabSize = size;
      this.row = new Float32Array(size);
      this.probs = new Float32Array(size);
    }
    const row = this.row;
    if (logits.data instanceof Float32Array)
      row.set(logits.data.subarray(logits.offset, logits.offset + size));
    else for (let i = 0; i < size; i++) row[i] = fromFloat16Bits(logits.data[logits.offset + i] as number);
    if (repetitionPenalty !== 1) {
      for (const id of seen) {
        if (id >= size) continue;
        const value = row[id] as number;
        row[id] = value < 0 ? value * repetitionPenalty : value / repetitionPenalty;
      }
    }
    if (this.greedy) return argmax(row, 0, size);
    return this.draw(temperature);
  }

  private draw(temperature: number): number {
    const { topK, topP, minP } = this.settings;
    const row = this.row;
    const size = this.vocabSize;
    // Candidates largest first: the top k, or every token with a probability worth sorting (below).
    let ids: number[];
    if (topK > 0 && topK < size) ids = topKIndices(row, topK);
    else ids = [];
    const max = ids.length > 0 ? (row[ids[0] as number] as number) : row[argmax(row, 0, size)];
    const probs = this.probs;
    let total = 0;
    if (ids.length > 0) {
      for (const id of ids) {
        const p = Math.exp(((row[id] as number) - (max as number)) / temperature);
        probs[id] = p;
        total += p;
      }
    } else {
      for (let id = 0; id < size; id++) {
        const p = Math.exp(((row[id] as number) - (max as number)) / temperature);
        probs[id] = p;
        total += p;
      }
      if (topP >= 1 && minP === 0) return this.drawFrom(null, total);
      // the likeliest token has probs 1 (max subtracted), so min-p alone keeps probs >= minP
      ids = topP < 1 ? this.nucleusCandidates(total, topP) : this.tokensAbove(minP);
    }
    let kept = ids.length;
    if (topP < 1) {
      let mass = 0;
      for (let i = 0; i < ids.length; i++) {
        mass += probs[ids[i] as number] as number;
        if (mass >= topP * total) {
          kept = i + 1;
          break;
        }
      }
    }
    if (minP > 0) {
      const floor = minP * (probs[ids[0] as number] as number);
      while (kept > 1 && (probs[ids[kept - 1] as number] as number) < floor) kept--;
    }
    const chosen = ids.slice(0, kept);
    let keptMass = 0;
    for (const id of chosen) keptMass += probs[id] as number;
    return this.drawFrom(chosen, keptMass);
  }

  /**
   * Tokens sure to hold the nucleus, sorted largest first: those above a threshold that is lowered until
   * they carry top_p of the mass (every token left out is smaller than every one kept, so the nucleus is
   * inside). Sorting 150 k tokens per step would cost more than the model on small graphs.
   */
  private nucleusCandidates(total: number, topP: number): number[] {
    const probs = this.probs;
    const size = this.vocabSize;
    const need = Math.min(1, topP) * total;
    let threshold = 1 / 16;
    for (;;) {
      const ids: number[] = [];
      let mass = 0;
      for (let id = 0; id < size; id++) {
        const p = probs[id] as number;
        if (p >= threshold) {
          ids.push(id);
          mass += p;
        }
      }
      if (mass >= need || threshold < 1e-30)
        return ids.sort((a, b) => (probs[b] as number) - (probs[a] as number) || a - b);
      threshold /= 16;
    }
  }

  /** Tokens with probs >= floor, largest first. */
  private tokensAbove(floor: number): number[] {
    const probs = this.probs;
    const ids: number[] = [];
    for (let id = 0; id < this.vocabSize; id++) if ((probs[id] as number) >= floor) ids.push(id);
    return ids.sort((a, b) => (probs[b] as number) - (probs[a] as number) || a - b);
  }

  /** One draw from ids (every token when null) weighted by probs, which sum to `mass` over them. */
  private drawFrom(ids: readonly number[] | null, mass: number): number {
    const probs = this.probs;
    let target = this.random() * mass;
    if (ids === null) {
      for (let id = 0; id < this.vocabSize; id++) {
        target -= probs[id] as number;
        if (target < 0) return id;
      }
      return argmax(probs, 0, this.vocabSize);
    }
    for (const id of ids) {
      target -= probs[id] as number;
      if (target < 0) return id;
    }
    return ids[ids.length - 1] as number;
  }
}
