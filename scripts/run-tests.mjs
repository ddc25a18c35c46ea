#!/usr/bin/env node
// Runs every test/**/*.test.ts with Node's test runner (TypeScript through tsx). Pass paths to run a subset.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function findTests(dir) {
  return readdirSync(dir)
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory())
        return name === "helpers" || name === "fixtures" ? [] : findTests(path);
      return name.endsWith(".test.ts") ? [path] : [];
    })
    .sort();
}

const files = process.argv.length > 2 ? process.argv.slice(2) : findTests("test");
const result = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-reporter=spec", "--test-concurrency=2", ...files],
  { stdio: "inherit" },
);
process.exit(result.status ?? 1);
