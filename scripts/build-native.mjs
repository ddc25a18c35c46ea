#!/usr/bin/env node
/**
 * Builds gpux's optional native addon (native/shared-memory.c) into build/native/shared-memory.node, at
 * install (package.json postinstall). With it, tensors cross to the inference process through shared memory;
 * without it (no C compiler, no Node headers, not Linux/macOS) gpux sends them through the IPC pipe, as
 * before. So this script never fails an install: it prints one line, built or why not, and exits 0.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const source = join(root, "native", "shared-memory.c");
const target = join(root, "build", "native", "shared-memory.node");
// Node's headers sit beside its binary in every official build: <prefix>/bin/node, <prefix>/include/node.
const include = join(dirname(process.execPath), "..", "include", "node");

function skip(why) {
  console.log(
    `gpux: shared-memory addon not built (${why}); tensors cross to inference processes through the pipe`,
  );
  process.exit(0);
}

if (process.platform !== "linux" && process.platform !== "darwin")
  skip(`not supported on ${process.platform}`);
if (!existsSync(source)) skip(`${source} is missing`);
if (!existsSync(join(include, "node_api.h"))) skip(`no Node headers at ${include}`);
const cc = process.env.CC || "cc";
// compiled beside the target and renamed once whole: a failed build never leaves a half-written addon
const partial = `${target}.${process.pid}.partial`;
const args = ["-O2", "-shared", "-fPIC", `-I${include}`, "-o", partial, source];
// macOS resolves Node-API's symbols from the running node binary at load time
if (process.platform === "darwin") args.unshift("-undefined", "dynamic_lookup");
mkdirSync(dirname(target), { recursive: true });
const built = spawnSync(cc, args, { encoding: "utf8" });
if (built.error || built.status !== 0) rmSync(partial, { force: true });
if (built.error) skip(`no C compiler: ${cc} could not be started`);
if (built.status !== 0)
  skip(
    `${cc} failed: ${(built.stderr || built.stdout).trim().split("\n")[0] || `exit code ${built.status}`}`,
  );
renameSync(partial, target);
console.log(`gpux: built the shared-memory addon (${target})`);
