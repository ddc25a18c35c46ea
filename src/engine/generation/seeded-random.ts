/**
 * A seeded uniform generator in [0, 1) (mulberry32): the same seed gives the same draws on every machine, so
 * a seeded request gives the same tokens. Math.random cannot be seeded; quality is ample for sampling.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A fresh seed for requests that name none (reported back, so a run can be repeated). */
export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 32);
}
