/** Edits (insert, delete, substitute) turning `a` into `b`, case-insensitive. */
function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    for (let j = 1; j <= y.length; j++) {
      const substitute = (previous[j - 1] as number) + (x[i - 1] === y[j - 1] ? 0 : 1);
      current[j] = Math.min(substitute, (previous[j] as number) + 1, (current[j - 1] as number) + 1);
    }
    previous = current;
  }
  return previous[y.length] as number;
}

/**
 * The known names close to what was typed, closest first (at most `limit`): a few typos away (a third of the
 * name's length, at least 2), or containing it / contained in it.
 */
export function didYouMean(typed: string, known: Iterable<string>, limit = 3): string[] {
  const wanted = typed.toLowerCase();
  const scored = [...new Set(known)]
    .map((name) => {
      const lower = name.toLowerCase();
      const distance = editDistance(wanted, lower);
      const contains = wanted.length >= 3 && (lower.includes(wanted) || wanted.includes(lower));
      return { name, distance, close: contains || distance <= Math.max(2, Math.floor(wanted.length / 3)) };
    })
    .filter((s) => s.close && s.name.toLowerCase() !== wanted)
    .sort((a, b) => a.distance - b.distance || a.name.localeCompare(b.name));
  return scored.slice(0, limit).map((s) => s.name);
}
