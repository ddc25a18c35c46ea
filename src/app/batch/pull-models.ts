import type { ProgressSink } from "../../util/progress.js";
import { defaults } from "../../util/settings.js";
import { type PullModelOptions, type PullModelResult, pullModel } from "../pull-model.js";

/** One model of `gpux pull A B C`: its result, or why it failed. */
export type PullOutcome =
  | { ref: string; ok: true; result: PullModelResult; elapsedMs: number }
  | { ref: string; ok: false; error: unknown; elapsedMs: number };

export interface PullModelsOptions extends Omit<PullModelOptions, "progress"> {
  /** Models fetched at once. Default `defaults.hub.modelsAtOnce`. */
  concurrency?: number;
  /** The progress sink for one model's pull (each gets its own, so events can name their model). */
  progressFor?: (ref: string) => ProgressSink;
}

/**
 * Pull several models, a few at a time; one failing does not stop the others. The outcomes come back in the
 * order the references were given (each reference once).
 */
export async function pullModels(
  refs: readonly string[],
  options: PullModelsOptions = {},
): Promise<PullOutcome[]> {
  const { concurrency = defaults.hub.modelsAtOnce, progressFor, ...pullOptions } = options;
  const unique = [...new Set(refs)];
  const outcomes = new Array<PullOutcome>(unique.length);
  let next = 0;
  const worker = async () => {
    while (next < unique.length) {
      const index = next++;
      const ref = unique[index] as string;
      const started = performance.now();
      try {
        const result = await pullModel(ref, { ...pullOptions, progress: progressFor?.(ref) });
        outcomes[index] = { ref, ok: true, result, elapsedMs: performance.now() - started };
      } catch (error) {
        outcomes[index] = { ref, ok: false, error, elapsedMs: performance.now() - started };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, unique.length) }, worker));
  return outcomes;
}
