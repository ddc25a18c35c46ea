import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { repoRoot, runProcess } from "../helpers/cli.js";
import { tempDir } from "../helpers/temp-dir.js";

interface LockEntry {
  dev?: boolean;
  [key: string]: unknown;
}

/**
 * A scratch project that depends on the packed tarball, with a lockfile made from gpux's own (its runtime
 * packages, at the versions `npm ci` put in the npm cache): `npm ci --offline` then installs exactly what a
 * user's `npm install gpux` would, with no network. A lockfile-less `npm install --offline` cannot work here:
 * it must resolve version ranges from registry metadata, which `npm ci` never caches.
 */
function writeScratchProject(dir: string, tarball: string): void {
  const own = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as Record<string, unknown>;
  const lock = JSON.parse(readFileSync(join(repoRoot, "package-lock.json"), "utf8")) as {
    packages: Record<string, LockEntry>;
  };
  const spec = `file:${tarball}`;
  const runtime = Object.entries(lock.packages).filter(([path, entry]) => path !== "" && !entry.dev);
  const integrity = `sha512-${createHash("sha512")
    .update(readFileSync(join(dir, tarball)))
    .digest("base64")}`;
  const packages: Record<string, unknown> = {
    "": { name: "scratch", dependencies: { gpux: spec } },
    "node_modules/gpux": {
      version: own.version,
      resolved: spec,
      integrity,
      license: own.license,
      dependencies: own.dependencies,
      bin: own.bin,
      engines: own.engines,
    },
    ...Object.fromEntries(runtime),
  };
  writeFileSync(
    join(dir, "package.json"),
    // overrides apply only at a project's root, so a user on Node 20 copies gpux's (docs/reference/library.md)
    JSON.stringify({
      name: "scratch",
      private: true,
      type: "module",
      dependencies: { gpux: spec },
      overrides: own.overrides,
    }),
  );
  writeFileSync(
    join(dir, "package-lock.json"),
    JSON.stringify({ name: "scratch", lockfileVersion: 3, requires: true, packages }),
  );
}

/** What the scratch program does: import gpux by name, load the example model, run it, serve it, call it. */
const program = `
import { readFileSync } from "node:fs";
const gpux = await import("gpux");
const dir = new URL("./node_modules/gpux/examples/text-direction/", import.meta.url).pathname;
const model = await gpux.loadModel(dir);
const upright = await model.predict({ image: dir + "samples/upright.png" });
const flipped = await model.predict({ image: dir + "samples/upside-down.png" });
await model.dispose();
const server = await gpux.serve([dir], { port: 0 });
await server.ready;
const served = await (await fetch(server.url + "predict", {
  method: "POST",
  headers: { "content-type": "application/json" },
  // over HTTP gpux reads no files: the image travels as bytes
  body: JSON.stringify({ image: "data:image/png;base64," + readFileSync(dir + "samples/upright.png").toString("base64") }),
})).json();
await server.close();
let refused;
try { await gpux.loadModel(dir + "nothing.onnx"); } catch (error) { refused = error instanceof gpux.NotFoundError; }
console.log(JSON.stringify({ upright, flipped, served, refused, port: gpux.defaults.serve.port }));
`;

test("the packed package installs by name into a scratch project and runs a model (defect 5, #11 item 7)", async () => {
  const dir = tempDir("gpux-scratch-");
  const packed = await runProcess("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir]);
  assert.equal(packed.code, 0, packed.stderr);
  const [tarball] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  assert.ok(tarball, packed.stdout);
  const { filename, files } = tarball;
  const paths = files.map((f) => f.path);
  for (const needed of [
    "dist/index.js",
    "dist/index.d.ts",
    "dist/cli/main.js",
    "examples/text-direction/model.onnx",
  ])
    assert.ok(paths.includes(needed), `${needed} is not in the tarball`);
  assert.ok(
    !paths.some((p) => p.startsWith("test/") || p.startsWith("src/")),
    "tests or sources in the tarball",
  );

  writeScratchProject(dir, filename);
  const installed = await runProcess("npm", ["ci", "--offline", "--no-audit", "--no-fund"], {
    cwd: dir,
    env: { ONNXRUNTIME_NODE_INSTALL: "skip" },
  });
  assert.equal(installed.code, 0, installed.stderr);

  // the issue's own check, then a program that uses the API
  const imported = await runProcess(
    process.execPath,
    ["-e", "import('gpux').then((g) => console.log(typeof g.loadModel, typeof g.pullModel, typeof g.serve))"],
    { cwd: dir },
  );
  assert.equal(imported.stdout.trim(), "function function function", imported.stderr);
  writeFileSync(join(dir, "main.js"), program);
  const ran = await runProcess(process.execPath, ["main.js"], { cwd: dir });
  assert.equal(ran.code, 0, ran.stderr);
  const answer = JSON.parse(ran.stdout) as Record<string, Array<{ label: string }> | boolean | number>;
  const top = (value: unknown) => (value as Array<{ label: string }>)[0]?.label;
  assert.equal(top(answer.upright), "0");
  assert.equal(top(answer.flipped), "180");
  assert.deepEqual(answer.served, answer.upright);
  assert.equal(answer.refused, true);
  assert.equal(answer.port, 8080);

  // the declarations resolve by the package's name, typed: a TypeScript program that misuses them fails to compile
  writeFileSync(
    join(dir, "check.ts"),
    'import { loadModel, type Model } from "gpux";\nconst model: Model = await loadModel("./m.onnx");\nconst n: number = model.name;\n',
  );
  const tsc = await runProcess(
    process.execPath,
    [
      join(repoRoot, "node_modules", "typescript", "bin", "tsc"),
      "--noEmit",
      "--strict",
      "--module",
      "nodenext",
      "--target",
      "es2022",
      "--skipLibCheck",
      "--types",
      "node",
      "--typeRoots",
      join(repoRoot, "node_modules", "@types"),
      "check.ts",
    ],
    { cwd: dir },
  );
  assert.match(
    tsc.stdout,
    /check\.ts\(3,7\): error TS2322: Type 'string' is not assignable to type 'number'/,
  );
  assert.equal(tsc.stdout.trim().split("\n").length, 1, tsc.stdout);
});
