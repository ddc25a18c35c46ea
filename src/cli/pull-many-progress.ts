import type { ProgressEvent, ProgressSink } from "../util/progress.js";
import type { ProgressRenderer } from "./progress-renderer.js";

/** How `createProgressRenderer` draws: the same choice, so each model's events can be shaped for it. */
export type RendererKind = "json" | "bars" | "lines";

export function rendererKind(options: { json?: boolean }): RendererKind {
  if (options.json) return "json";
  return process.stderr.isTTY ? "bars" : "lines";
}

/**
 * One model's progress inside `gpux pull A B C`'s one display. NDJSON events carry `model`. On a terminal each
 * model is one bar (its bytes of all its files, from the registry's total events; the total row adds the
 * models up), so a row never mixes two models' files; steps without bytes name the model. Plain lines name
 * the model before each file; per-model totals are left out there (they would read as the whole pull's).
 */
export function modelProgress(renderer: ProgressRenderer, kind: RendererKind, model: string): ProgressSink {
  return {
    emit(event: ProgressEvent) {
      if (kind === "json") {
        renderer.emit({ ...event, model } as ProgressEvent);
        return;
      }
      const named = event.phase === "resolve" ? event.message : `${model}: ${event.message ?? ""}`;
      if (kind === "bars") {
        if (event.phase === "download") {
          if (event.file === undefined) renderer.emit({ ...event, file: model });
          return;
        }
        renderer.emit({ ...event, message: named });
        return;
      }
      if (event.phase === "download" && event.file === undefined) return;
      if (event.file !== undefined) renderer.emit({ ...event, file: `${model}: ${event.file}` });
      else renderer.emit({ ...event, message: named });
    },
  };
}
