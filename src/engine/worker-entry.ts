import type { WorkerOptions } from "node:worker_threads";

/**
 * How to start the worker thread whose entry is src/engine/NAME.ts (dist/engine/NAME.js once built). Under
 * tsx (tests, bench) the source is .ts: the worker then loads it through tsx's API, because Node 20 does not
 * carry the main thread's `--import tsx` loader hooks into workers.
 */
export function workerEntry(name: string): [string | URL, Pick<WorkerOptions, "eval">] {
  const fromSource = import.meta.url.endsWith(".ts");
  // from the engine folder, also when this module is bundled into the CLI (dist/cli)
  const url = new URL(`../engine/${name}${fromSource ? ".ts" : ".js"}`, import.meta.url);
  if (!fromSource) return [url, {}];
  return [
    `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))}).then((tsx) => tsx.tsImport(${JSON.stringify(url.href)}, ${JSON.stringify(import.meta.url)}));`,
    { eval: true },
  ];
}
