import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { type CliResult, runCli } from "../helpers/cli.js";
import { addOne, addPair, slowModel, writeModel } from "../helpers/models.js";
import { tempDir } from "../helpers/temp-dir.js";

const dir = tempDir();
writeModel(dir, "add.onnx", addOne);
writeModel(dir, "pair.onnx", addPair);
writeFileSync(join(dir, "corrupt.onnx"), "this is not a protobuf");

const gpux = (...args: string[]) => runCli(args, { cwd: dir });

/** A project folder with a gpux.yml beside a copy of a model. */
function project(name: string, yaml: string, model = "add.onnx"): string {
  const folder = join(dir, name);
  writeModel(folder, "model.onnx", model === "add.onnx" ? addOne : addPair);
  writeFileSync(join(folder, "gpux.yml"), yaml);
  return folder;
}

function assertNoStack(result: CliResult): void {
  assert.doesNotMatch(result.stderr, /^\s+at /m, `stack trace in:\n${result.stderr}`);
}

describe("gpux run", () => {
  test("a float32 model from plain JSON numbers", async () => {
    const result = await gpux("run", "add.onnx", "-i", '{"x": [[1, 2, 3]]}');
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), { y: [[2, 3, 4]] });
    assert.equal(result.stderr, "");
  });

  test("--json wraps the result with model, provider and time", async () => {
    const result = await gpux("run", "add.onnx", "-i", '{"x": [[0.5, 0, -1], [1, 1, 1]]}', "--json");
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout);
    assert.deepEqual(Object.keys(out), ["model", "provider", "elapsed_ms", "result"]);
    assert.equal(out.model, "add");
    assert.equal(out.provider, "cpu");
    assert.equal(typeof out.elapsed_ms, "number");
    assert.deepEqual(out.result, {
      y: [
        [1.5, 1, 0],
        [2, 2, 2],
      ],
    });
  });

  test("explicit {data, shape}, @file input and --output", async () => {
    writeFileSync(join(dir, "request.json"), '{"x": {"data": [1, 2, 3, 4, 5, 6], "shape": [2, 3]}}');
    const out = join(dir, "out.json");
    const result = await gpux("run", "add.onnx", "-i", "@request.json", "-o", out);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /wrote /);
    assert.deepEqual(JSON.parse(readFileSync(out, "utf8")), {
      y: [
        [2, 3, 4],
        [5, 6, 7],
      ],
    });
    const viaFile = await gpux("run", "add.onnx", "-f", "request.json");
    assert.deepEqual(JSON.parse(viaFile.stdout), {
      y: [
        [2, 3, 4],
        [5, 6, 7],
      ],
    });
  });

  test("a project folder, and the current project by its name", async () => {
    const folder = project("named", "name: adder\nmodel:\n  source: model.onnx\n");
    const byPath = await gpux("run", "named", "-i", '{"x": [[1, 1, 1]]}');
    assert.deepEqual(JSON.parse(byPath.stdout), { y: [[2, 2, 2]] });
    const byName = await runCli(["run", "adder", "-i", '{"x": [[1, 1, 1]]}'], { cwd: folder });
    assert.deepEqual(JSON.parse(byName.stdout), { y: [[2, 2, 2]] });
    const noArg = await runCli(["run", "-i", '{"x": [[2, 2, 2]]}'], { cwd: folder });
    assert.deepEqual(JSON.parse(noArg.stdout), { y: [[3, 3, 3]] });
  });
});

describe("bad input: one clear message, a documented exit code, no stack trace", () => {
  const yamlSyntax = project("bad-syntax", "name: x\nmodel: source: model.onnx\n");
  const yamlSchema = project(
    "bad-schema",
    "name: x\nmodel:\n  source: model.onnx\nruntime:\n  timeout: soon\n",
  );
  const cases: Array<[string, string[], number, RegExp]> = [
    ["malformed JSON", ["run", "add.onnx", "-i", '{"x": [1,'], 1, /^error: --input is not valid JSON/],
    [
      "unknown input name",
      ["run", "add.onnx", "-i", '{"z": [[1, 2, 3]]}'],
      1,
      /^error: Unknown input 'z'; the model's inputs are 'x'\./,
    ],
    [
      "missing input",
      ["run", "add.onnx", "-i", "{}"],
      1,
      /^error: Missing input 'x' \(float32 \[batch, 3\]\)/,
    ],
    [
      "wrong rank",
      ["run", "add.onnx", "-i", '{"x": [1, 2, 3]}'],
      1,
      /^error: Input 'x': expected float32 with shape \[batch, 3\] \(rank 2\), received shape \[3\] \(rank 1\)/,
    ],
    [
      "wrong fixed dimension",
      ["run", "add.onnx", "-i", '{"x": [[1, 2]]}'],
      1,
      /^error: Input 'x': expected float32 with shape \[batch, 3\].*received shape \[1, 2\]/,
    ],
    [
      "wrong dtype (float for int64)",
      ["run", "pair.onnx", "-i", '{"ids": [[1.5]], "mask": [[0]]}'],
      1,
      /^error: Input 'ids': element 0 is 1\.5, expected an integer/,
    ],
    [
      "wrong dtype (bool for float32)",
      ["run", "add.onnx", "-i", '{"x": [[true, false, true]]}'],
      1,
      /^error: Input 'x': element 0 is true, expected a number for dtype float32/,
    ],
    [
      "non-numeric value",
      ["run", "add.onnx", "-i", '{"x": [[1, "two", 3]]}'],
      1,
      /^error: Input 'x': element 1 is "two", expected a number/,
    ],
    ["not an object", ["run", "add.onnx", "-i", "[1, 2, 3]"], 1, /^error: Input must be a JSON object/],
    ["no input at all", ["run", "add.onnx"], 1, /^error: No input given\./],
    [
      "missing model file",
      ["run", "missing.onnx", "-i", "{}"],
      2,
      /^error: Model file 'missing\.onnx' does not exist/,
    ],
    [
      "unknown model name (not pulled: --pull never; test/cli/pull-policy.test.ts has the pull)",
      ["run", "nobody/nothing", "-i", "{}", "--pull", "never"],
      2,
      /^error: Model 'nobody\/nothing' not found \(looked in: .*\)\.\nhint: Run `gpux pull nobody\/nothing`/,
    ],
    [
      "missing input file",
      ["run", "add.onnx", "-f", "nope.json"],
      2,
      /^error: Cannot read input file 'nope\.json'/,
    ],
    [
      "corrupt .onnx",
      ["run", "corrupt.onnx", "-i", "{}"],
      1,
      /^error: '.*corrupt\.onnx' is not a valid ONNX model/,
    ],
    ["gpux.yml syntax error", ["run", yamlSyntax, "-i", "{}"], 1, /^error: .*gpux\.yml:2:8 invalid YAML: /],
    [
      "gpux.yml schema error",
      ["run", yamlSchema, "-i", "{}"],
      1,
      /^error: .*gpux\.yml:5:12 runtime\.timeout: expected number, received string/,
    ],
    [
      "bad --runs",
      ["run", "add.onnx", "-i", "{}", "--benchmark", "--runs", "0"],
      1,
      /^error: --runs must be/,
    ],
    ["unknown command", ["frobnicate"], 1, /^error: unknown command 'frobnicate'/],
    ["unknown flag", ["run", "add.onnx", "--frobnicate"], 1, /^error: unknown option '--frobnicate'/],
    [
      "unknown provider",
      ["run", "add.onnx", "-i", "{}", "--provider", "quantum"],
      1,
      /^error: Unknown execution provider 'quantum'/,
    ],
  ];
  for (const [name, args, code, pattern] of cases) {
    test(name, async () => {
      const result = await gpux(...args);
      assert.equal(result.code, code, `exit code; stderr:\n${result.stderr}`);
      assert.match(result.stderr, pattern);
      assertNoStack(result);
      assert.equal(result.stdout, "");
    });
  }

  test("--verbose adds the stack trace", async () => {
    const result = await gpux("--verbose", "run", "corrupt.onnx", "-i", "{}");
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^\s+at /m);
  });

  test("an unknown gpux.yml key is a warning, and the run goes on", async () => {
    const folder = project("typo", "name: typo\nmodel:\n  source: model.onnx\nruntim:\n  timeout: 5\n");
    const result = await gpux("run", folder, "-i", '{"x": [[0, 0, 0]]}');
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^warning: .*gpux\.yml:4:1 unknown field runtim is ignored \(typo\?\)$/m);
    assert.deepEqual(JSON.parse(result.stdout), { y: [[1, 1, 1]] });
  });
});

describe("gpux.yml settings take effect in run", () => {
  test("required: false sends zeros shaped like the inputs sharing its dims", async () => {
    const folder = project(
      "optional",
      "name: pair\nmodel:\n  source: model.onnx\ninputs:\n  ids: {}\n  mask: {required: false}\n",
      "pair.onnx",
    );
    const result = await gpux("run", folder, "-i", '{"ids": [[5, 6, 7]]}');
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), { sum: [[5, 6, 7]] });
    const required = await gpux("run", "pair.onnx", "-i", '{"ids": [[5, 6, 7]]}');
    assert.equal(required.code, 1);
    assert.match(required.stderr, /Missing input 'mask' \(int64 \[batch, sequence\]\)/);
  });

  test("an optional input whose shape cannot be worked out is a clear error", async () => {
    const folder = project(
      "optional-unknown",
      "name: pair\nmodel:\n  source: model.onnx\ninputs:\n  mask: {required: false, shape: [batch, other]}\n",
      "pair.onnx",
    );
    const result = await gpux("run", folder, "-i", '{"ids": [[5, 6, 7]]}');
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /Input 'mask' was left out, but its shape \[batch, other\] cannot be filled in/,
    );
  });

  test("inputs[].max_length bounds the last axis", async () => {
    const folder = project(
      "maxlen",
      "name: pair\nmodel:\n  source: model.onnx\ninputs:\n  ids: {max_length: 2}\n",
      "pair.onnx",
    );
    const result = await gpux("run", folder, "-i", '{"ids": [[1, 2, 3]], "mask": [[0, 0, 0]]}');
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Input 'ids': length 3 along the last axis exceeds max_length 2/);
  });

  test("inputs[].shape narrows what the model accepts", async () => {
    const folder = project(
      "shaped",
      "name: s\nmodel:\n  source: model.onnx\ninputs:\n  x: {shape: [1, 3]}\n",
    );
    const result = await gpux("run", folder, "-i", '{"x": [[1, 2, 3], [4, 5, 6]]}');
    assert.equal(result.code, 1);
    assert.match(result.stderr, /expected float32 with shape \[1, 3\].*received shape \[2, 3\]/);
  });

  test("runtime.enable_profiling writes ONNX Runtime's profile", async () => {
    const folder = project(
      "profiled",
      "name: p\nmodel:\n  source: model.onnx\nruntime:\n  enable_profiling: true\n",
    );
    const result = await gpux("run", folder, "-i", '{"x": [[1, 2, 3]]}');
    assert.equal(result.code, 0, result.stderr);
    const profiles = readdirSync(join(folder, ".gpux")).filter((name) => name.startsWith("profile_"));
    assert.equal(profiles.length, 1);
    assert.match(result.stderr, new RegExp(`profile written to .*${profiles[0]}`));
    const events = JSON.parse(readFileSync(join(folder, ".gpux", profiles[0] as string), "utf8"));
    assert.ok(
      events.some((event: { cat?: string }) => event.cat === "Node"),
      "profile has node events",
    );
  });

  test("runtime.timeout stops an inference that runs too long", async () => {
    const folder = join(dir, "slow");
    writeModel(folder, "model.onnx", slowModel(2000, 8));
    writeFileSync(
      join(folder, "gpux.yml"),
      "name: slow\nmodel:\n  source: model.onnx\nruntime:\n  timeout: 0.2\n",
    );
    const started = Date.now();
    const result = await gpux("run", folder, "-i", '{"x": [0]}');
    const elapsed = Date.now() - started;
    assert.equal(result.signal, "SIGKILL", `expected the watchdog to stop it; stderr:\n${result.stderr}`);
    assert.match(
      result.stderr,
      /^error: inference on model 'slow' ran longer than its 0\.2 s limit and was stopped\.\nhint: raise runtime\.timeout/,
    );
    // --timeout 0 lifts the limit: the same run completes, and took longer than the stopped one
    const free = await gpux("run", folder, "-i", '{"x": [0]}', "--timeout", "0");
    assert.equal(free.code, 0, free.stderr);
    assert.deepEqual(JSON.parse(free.stdout), { y: 0 });
    assert.ok(Date.now() - started - elapsed > elapsed, "the unbounded run took longer than the stopped one");
  });
});

describe("gpux run --benchmark", () => {
  test("--json shape", async () => {
    const result = await gpux(
      "run",
      "add.onnx",
      "-i",
      '{"x": [[1, 2, 3]]}',
      "--benchmark",
      "--runs",
      "20",
      "--warmup",
      "2",
      "--json",
    );
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout);
    assert.deepEqual(Object.keys(out), [
      "model",
      "provider",
      "runs",
      "warmup",
      "input_shapes",
      "session_ms",
      "end_to_end_ms",
      "throughput",
    ]);
    assert.equal(out.runs, 20);
    assert.equal(out.warmup, 2);
    assert.deepEqual(out.input_shapes, { x: [1, 3] });
    for (const stats of [out.session_ms, out.end_to_end_ms]) {
      assert.deepEqual(Object.keys(stats), ["mean", "std", "min", "p50", "p90", "p95", "p99", "max"]);
      assert.ok(stats.min <= stats.p50 && stats.p50 <= stats.p90 && stats.p99 <= stats.max);
      assert.ok(stats.min > 0);
    }
    assert.ok(out.session_ms.mean <= out.end_to_end_ms.mean);
    assert.ok(Math.abs(out.throughput - 1000 / out.end_to_end_ms.mean) / out.throughput < 0.01);
  });

  test("table output and --output file", async () => {
    const out = join(dir, "bench.json");
    const result = await gpux(
      "run",
      "add.onnx",
      "-i",
      '{"x": [[1, 2, 3]]}',
      "--benchmark",
      "--runs",
      "5",
      "-o",
      out,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^model add {2}provider cpu {2}runs 5 {2}warmup 10 {2}inputs x\[1,3\]/);
    assert.match(result.stdout, /^ms\s+mean\s+std\s+min\s+p50\s+p90\s+p95\s+p99\s+max$/m);
    assert.match(result.stdout, /^session\s+\d/m);
    assert.match(result.stdout, /^end-to-end\s+\d/m);
    assert.match(result.stdout, /^throughput \d+(\.\d)? inferences\/s$/m);
    assert.ok(existsSync(out));
    assert.equal(JSON.parse(readFileSync(out, "utf8")).runs, 5);
  });
});
