import type { WorkerOptions } from "node:worker_threads";

const fromSource = import.meta.url.endsWith(".ts");

/** Under tsx a child process needs the loader itself (`--import tsx`); built, nothing. */
export const workerExecArgv: readonly string[] = fromSource ? ["--import", "tsx"] : [];

/** The entry file src/engine/NAME.ts, or dist/engine/NAME.js once built (also from the bundled CLI in dist/cli). */
export function workerFile(name: string): URL {
  return new URL(`../engine/${name}${fromSource ? ".ts" : ".js"}`, import.meta.url);
}

/**
 * How to start the worker thread whose entry is src/engine/NAME.ts (dist/engine/NAME.js once built). Under
 * tsx (tests, bench) the source is .ts: the worker then loads it through tsx's API, because Node 20 does not
 * carry the main thread's `--import tsx` loader hooks into workers.
 */
export function workerEntry(name: string): [string | URL, Pick<WorkerOptions, "eval">] {
  const url = workerFile(name);
  if (!fromSource) return [url, {}];
  return [
    `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))}).then((tsx) => tsx.tsImport(${JSON.stringify(url.href)}, ${JSON.stringify(import.meta.url)}));`,
    { eval: true },
  ];
}
