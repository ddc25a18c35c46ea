/**
 * The benches' statistics for deciding a small gap on a host whose speed drifts: percentiles and 95 %
 * bootstrap intervals, resampled with a fixed generator so the same samples give the same interval.
 */

/** The p-th percentile (nearest rank) of values; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/** A fixed LCG, so an interval is reproducible for the same samples. */
function seededUniform(): () => number {
  let seed = 12345;
  return () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
}

function resampler(random: () => number) {
  return (values: readonly number[]) =>
    values.map(() => values[Math.floor(random() * values.length)] as number);
}

/**
 * 95 % interval of p50(a) − p50(b) by bootstrap (each side resampled with replacement): how far the
 * difference of two medians could move with this many samples on this machine.
 */
export function medianDifferenceInterval(a: number[], b: number[], draws = 2000): [number, number] {
  const resample = resampler(seededUniform());
  const differences = Array.from(
    { length: draws },
    () => percentile(resample(a), 50) - percentile(resample(b), 50),
  );
  return [percentile(differences, 2.5), percentile(differences, 97.5)];
}

/**
 * 95 % interval of the median of `values` by bootstrap: for paired differences (each measured back to back,
 * so the host's drift between pairs cancels), resampling the pairs.
 */
export function medianInterval(values: number[], draws = 2000): [number, number] {
  const resample = resampler(seededUniform());
  const medians = Array.from({ length: draws }, () => percentile(resample(values), 50));
  return [percentile(medians, 2.5), percentile(medians, 97.5)];
}
