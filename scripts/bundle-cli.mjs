#!/usr/bin/env node
// Bundles the CLI entry (dist/cli/main.js, overwriting tsc's copy) with its pure-JS dependencies, so that a
// command starts by reading a few files instead of resolving and compiling a few hundred modules (`gpux pull`
// started ~0.1 s sooner). Lazily loaded commands become chunks beside it (dist/cli/chunk-*.js), at the same
// depth as the module they came from, so paths computed from import.meta.url still hold. Packages with
// native code, worker files or plugin loading (and undici, loaded only behind a proxy) stay external and load from node_modules as usual.
import { readdirSync, rmSync } from "node:fs";
import { build } from "esbuild";

// chunk names change with their content: drop the last build's
for (const name of readdirSync("dist/cli")) if (/^chunk-\w+\.js$/.test(name)) rmSync(`dist/cli/${name}`);

await build({
  entryPoints: { main: "src/cli/main.ts" },
  outdir: "dist/cli",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  keepNames: true,
  chunkNames: "chunk-[hash]",
  external: ["onnxruntime-node", "onnxruntime-common", "fastify", "@fastify/*", "prom-client", "undici"],
  // bundled CommonJS dependencies (commander) call require()
  banner: {
    js: "import { createRequire as gpuxCreateRequire } from 'node:module'; const require = gpuxCreateRequire(import.meta.url);",
  },
  logLevel: "warning",
});
