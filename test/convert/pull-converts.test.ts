import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { runCli } from "../helpers/cli.js";
import { type FakeRepo, startFakeHub } from "../helpers/fake-hub.js";
import { repoFromFolder } from "../helpers/fake-hub-repos.js";
import { missingPythonModules, requirePython } from "../helpers/python.js";
import { tempDir } from "../helpers/temp-dir.js";
import {
  maxAbsDiff,
  tinyReference,
  tinyRepoNames,
  tinyTransformersDir,
} from "../helpers/tiny-transformers.js";

const modules = ["torch", "transformers", "onnx", "onnxruntime", "sentence_transformers"];
// without Python the repos cannot be generated: every test below then skips (or fails in CI)
const fixtures = missingPythonModules(modules) ? undefined : tinyTransformersDir();

function tinyRepo(name: string, id: string, edit?: (files: FakeRepo["files"]) => void): FakeRepo {
  const dir = join(fixtures as string, name);
  const repo = repoFromFolder(dir, id, { pipelineTag: tinyReference(dir).pipeline_tag });
  delete repo.files["reference.json"];
  edit?.(repo.files);
  return repo;
}

const repos: FakeRepo[] = fixtures
  ? [
      ...tinyRepoNames.map((name) => tinyRepo(name, `tiny/${name}`)),
      tinyRepo("distilbert-sst2", "broken/truncated", (files) => {
        const weights = files["model.safetensors"] as Uint8Array;
        files["model.safetensors"] = weights.slice(0, Math.floor(weights.length / 2));
      }),
      tinyRepo("bert-sst2", "broken/no-config", (files) => {
        delete files["config.json"];
      }),
      tinyRepo("bert-sst2", "broken/unknown-architecture", (files) => {
        const config = JSON.parse(String(files["config.json"])) as Record<string, unknown>;
        files["config.json"] = JSON.stringify({ ...config, architectures: ["BertForSomethingNew"] });
      }),
    ]
  : [];
for (const repo of repos.filter((r) => r.id.startsWith("broken/"))) delete repo.pipelineTag;
const hub = await startFakeHub({ repos });
after(() => hub.close());

function env(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    HF_ENDPOINT: hub.url,
    HF_HUB_CACHE: join(home, "hf", "hub"),
    HF_TOKEN: "",
    GPUX_HOME: join(home, "gpux"),
    ...extra,
  };
}

interface PullResult {
  path: string;
  cached: boolean;
}

/** Every folder under the store's models/ (entries and leftovers such as .tmp-*). */
function storeFolders(home: string): string[] {
  const root = join(home, "gpux", "models");
  if (!existsSync(root)) return [];
  const walk = (dir: string, depth: number): string[] =>
    readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .flatMap((d) => (depth === 0 ? [join(dir, d.name)] : walk(join(dir, d.name), depth - 1)));
  return walk(root, 3);
}

const home = tempDir();

for (const name of tinyRepoNames) {
  test(`gpux pull tiny/${name} converts it, and gpux run on the ONNX matches transformers`, async (t) => {
    if (!requirePython(t, modules)) return;
    const pulled = await runCli(["pull", `tiny/${name}`, "--json"], { env: env(home) });
    assert.equal(pulled.code, 0, pulled.stderr);
    const result = JSON.parse(pulled.stdout.trim().split("\n").pop() as string) as PullResult;
    const manifest = JSON.parse(readFileSync(join(result.path, "manifest.json"), "utf8"));
    assert.equal(manifest.conversion.converter, "pytorch");
    assert.equal(manifest.conversion.validation.passed, true);
    // the fast export (whole-graph shape inference skipped) worked without its fallback
    assert.doesNotMatch(pulled.stdout + pulled.stderr, /fast export failed|exporting again/);
    for (const diff of Object.values(manifest.conversion.validation.maxAbsDiff))
      assert.ok((diff as number) <= 1e-4);

    const reference = tinyReference(join(fixtures as string, name));
    const request = join(tempDir(), "request.json");
    writeFileSync(request, JSON.stringify(reference.inputs));
    const model = join(result.path, manifest.model);
    // the weights live in external data beside the graph, which ONNX Runtime maps instead of parsing
    const weights = statSync(`${model}_data`).size;
    assert.ok(weights > statSync(model).size, `model.onnx_data ${weights} bytes`);
    const ran = await runCli(["run", model, "--input", `@${request}`, "--json"], { env: env(home) });
    assert.equal(ran.code, 0, ran.stderr);
    const outputs = (JSON.parse(ran.stdout) as { result: Record<string, unknown> }).result;
    for (const [output, values] of Object.entries(reference.outputs)) {
      const diff = maxAbsDiff(outputs[output], values);
      assert.ok(diff <= 1e-4, `${output}: max abs diff ${diff} vs transformers`);
    }
  });
}

test("a second pull reuses the conversion: no Python is even started", async (t) => {
  if (!requirePython(t, modules)) return;
  const first = await runCli(["pull", "tiny/distilbert-sst2", "--json"], { env: env(home) });
  assert.equal(first.code, 0, first.stderr);
  const again = await runCli(["pull", "tiny/distilbert-sst2", "--json"], {
    env: env(home, { GPUX_PYTHON: "/nonexistent" }),
  });
  assert.equal(again.code, 0, again.stderr);
  assert.equal((JSON.parse(again.stdout.trim().split("\n").pop() as string) as PullResult).cached, true);
});

test("a converted entry whose weights file is gone is converted again, not reused", async (t) => {
  if (!requirePython(t, modules)) return;
  const own = tempDir();
  const first = await runCli(["pull", "tiny/bert-ner", "--json"], { env: env(own) });
  assert.equal(first.code, 0, first.stderr);
  const entry = (JSON.parse(first.stdout.trim().split("\n").pop() as string) as PullResult).path;
  rmSync(join(entry, "model.onnx_data"));
  const again = await runCli(["pull", "tiny/bert-ner", "--json"], { env: env(own) });
  assert.equal(again.code, 0, again.stderr);
  const result = JSON.parse(again.stdout.trim().split("\n").pop() as string) as PullResult;
  assert.equal(result.cached, false);
  assert.ok(existsSync(join(result.path, "model.onnx_data")));
});

test("gpux convert on a pulled model: same options reuse the entry, --optimize adds one (offline)", async (t) => {
  if (!requirePython(t, modules)) return;
  const pulled = await runCli(["pull", "tiny/distilbert-sst2"], { env: env(home) });
  assert.equal(pulled.code, 0, pulled.stderr);
  const same = await runCli(["convert", "tiny/distilbert-sst2", "--json"], { env: env(home) });
  assert.equal(same.code, 0, same.stderr);
  assert.equal((JSON.parse(same.stdout) as { report: { cached?: boolean } }).report.cached, true);

  hub.resetStats();
  const optimized = await runCli(["convert", "tiny/distilbert-sst2", "--optimize", "--json"], {
    env: env(home),
  });
  assert.equal(optimized.code, 0, optimized.stderr);
  const { onnx, report } = JSON.parse(optimized.stdout) as {
    onnx: string;
    report: { optimized_validation?: { passed: boolean }; cached?: boolean };
  };
  assert.equal(report.optimized_validation?.passed, true);
  assert.equal(report.cached, undefined);
  assert.match(onnx, /\+optimize-true[/\\]model\.optimized\.onnx$/);
  assert.equal(hub.stats.requests.length, 0, "converting a pulled model needs no network");
});

const broken: Array<[string, RegExp, NodeJS.ProcessEnv]> = [
  ["broken/truncated", /safetensors|checkpoint/i, {}],
  ["broken/no-config", /no config\.json/, {}],
  ["broken/unknown-architecture", /architecture BertForSomethingNew.*\n.*hint: Pass --task/, {}],
  ["tiny/bert-sst2", /Python was not found/, { GPUX_PYTHON: "/nonexistent" }],
];
for (const [id, message, extra] of broken) {
  test(`pull ${id}${extra.GPUX_PYTHON ? " with no Python" : ""}: clear error, exit 1, nothing in the store`, async (t) => {
    if (!requirePython(t, modules)) return;
    const own = tempDir();
    const pulled = await runCli(["pull", id], { env: env(own, extra) });
    assert.equal(pulled.code, 1, pulled.stderr);
    assert.match(pulled.stderr, message);
    assert.deepEqual(storeFolders(own), []);
    const ls = await runCli(["ls", "--json"], { env: env(own) });
    assert.deepEqual(JSON.parse(ls.stdout).models, []);
  });
}

test("the converter's Python starts while the checkpoint is still downloading", async (t) => {
  if (!requirePython(t, modules)) return;
  const own = tempDir();
  // a Python that notes when it was started, then runs the real one
  const marker = join(own, "python-started");
  const wrapper = join(own, "python");
  writeFileSync(wrapper, `#!/bin/sh\ndate +%s%3N >> '${marker}'\nexec python3 "$@"\n`, { mode: 0o755 });
  const weights = statSync(join(fixtures as string, "bert-sst2", "model.safetensors")).size;
  hub.faults.throttle = { bytesPerSecond: Math.ceil(weights / 2), chunkSize: 16 * 1024 };
  let pulled: Awaited<ReturnType<typeof runCli>>;
  try {
    pulled = await runCli(["pull", "tiny/bert-sst2", "--json"], { env: env(own, { GPUX_PYTHON: wrapper }) });
  } finally {
    hub.faults.throttle = undefined;
  }
  assert.equal(pulled.code, 0, pulled.stderr);
  const events = pulled.stdout
    .trim()
    .split("\n")
    .map(
      (line) =>
        JSON.parse(line) as { phase?: string; file?: string; bytes?: number; total?: number; time?: string },
    );
  const downloaded = events.find(
    (e) => e.phase === "download" && e.file === "model.safetensors" && e.bytes === e.total,
  );
  assert.ok(downloaded?.time, "the download's last progress event");
  const started = Number(readFileSync(marker, "utf8").split("\n")[0]);
  const finished = Date.parse(downloaded.time);
  assert.ok(started < finished - 500, `Python started ${finished - started} ms before the weights were in`);
});
