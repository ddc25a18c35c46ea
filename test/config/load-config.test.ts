import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { loadConfig, parseConfigText } from "../../src/config/load-config.js";
import { NotFoundError, UserError } from "../../src/util/errors.js";
import { tempDir } from "../helpers/temp-dir.js";

const minimal = "name: m\nmodel:\n  source: model.onnx\n";

function parse(text: string) {
  return parseConfigText(text, "gpux.yml");
}

function parseError(text: string): UserError {
  try {
    parse(text);
  } catch (error) {
    assert.ok(error instanceof UserError, `expected a UserError, got ${String(error)}`);
    return error;
  }
  assert.fail("expected the config to be rejected");
}

describe("gpux.yml defaults", () => {
  test("a minimal file gets the earlier tool's defaults", () => {
    const { config, warnings } = parse(minimal);
    assert.deepEqual(warnings, []);
    assert.equal(config.name, "m");
    assert.equal(config.version, "1.0.0");
    assert.deepEqual(config.model, { source: "model.onnx", format: "onnx" });
    assert.deepEqual(config.runtime, { timeout: 30, batch_size: 1, enable_profiling: false });
    assert.deepEqual(config.metadata, {});
    assert.equal(config.inputs, undefined);
  });
});

describe("inputs and outputs", () => {
  const expected = [
    { name: "ids", type: "int64", shape: ["batch", 8], required: true, max_length: 8 },
    { name: "mask", type: "int64", required: false },
  ];

  test("list form", () => {
    const { config } = parse(
      `${minimal}inputs:\n  - name: ids\n    type: int64\n    shape: [batch, 8]\n    max_length: 8\n  - name: mask\n    type: long\n    required: false\n`,
    );
    assert.deepEqual(config.inputs, expected);
  });

  test("mapping form with {…} values", () => {
    const { config } = parse(
      `${minimal}inputs:\n  ids:\n    type: int64\n    shape: [batch, 8]\n    max_length: 8\n  mask: {type: int64, required: false}\n`,
    );
    assert.deepEqual(config.inputs, expected);
  });

  test("mapping form `name: type`", () => {
    const { config } = parse(`${minimal}outputs:\n  logits: float\n  hidden: fp16\n`);
    assert.deepEqual(config.outputs, [
      { name: "logits", type: "float32" },
      { name: "hidden", type: "float16" },
    ]);
  });

  test("type aliases from ONNX and OIP spellings", () => {
    const { config } = parse(`${minimal}inputs:\n  a: tensor(float)\n  b: INT32\n  c: boolean\n  d: bytes\n`);
    assert.deepEqual(
      config.inputs?.map((i) => i.type),
      ["float32", "int32", "bool", "string"],
    );
  });

  test("outputs carry labels and descriptions", () => {
    const { config } = parse(
      `${minimal}outputs:\n  - name: p\n    labels: [neg, pos]\n    description: probabilities\n`,
    );
    assert.deepEqual(config.outputs, [{ name: "p", labels: ["neg", "pos"], description: "probabilities" }]);
  });

  test("an unknown type names the field and the line", () => {
    const error = parseError(`${minimal}inputs:\n  - name: x\n    type: float128\n`);
    assert.match(error.message, /^gpux\.yml:6:11 inputs\[0\]\.type: unknown type "float128"/);
  });

  test("in mapping form the error path uses the input's name", () => {
    const error = parseError(`${minimal}inputs:\n  x:\n    shape: 3\n`);
    assert.match(error.message, /^gpux\.yml:6:12 inputs\.x\.shape: expected array/);
  });
});

describe("runtime, serving, preprocessing, postprocessing, metadata", () => {
  test("every runtime field", () => {
    const { config } = parse(
      `${minimal}runtime:\n  provider: cuda\n  gpu:\n    memory: 2GB\n    backend: tensorrt\n  timeout: 5\n  enable_profiling: true\n  threads: 2\n`,
    );
    assert.deepEqual(config.runtime, {
      provider: "cuda",
      gpu: { memory: 2e9, backend: "tensorrt" },
      timeout: 5,
      batch_size: 1,
      enable_profiling: true,
      threads: 2,
    });
  });

  for (const [size, bytes] of [
    ["2GB", 2e9],
    ["512MiB", 512 * 2 ** 20],
    ["1.5 gb", 1.5e9],
    ["100", 100],
    [1024, 1024],
  ] as const) {
    test(`size ${JSON.stringify(size)} is ${bytes} bytes`, () => {
      const { config } = parse(`${minimal}runtime:\n  gpu:\n    memory: ${size}\n`);
      assert.equal(config.runtime.gpu?.memory, bytes);
    });
  }

  test("a bad size names the field", () => {
    const error = parseError(`${minimal}runtime:\n  gpu:\n    memory: lots\n`);
    assert.match(error.message, /gpux\.yml:6:13 runtime\.gpu\.memory: expected a size such as "2GB"/);
  });

  test("a bad backend lists the accepted ones", () => {
    const error = parseError(`${minimal}runtime:\n  gpu:\n    backend: vulkan\n`);
    assert.match(error.message, /gpux\.yml:6:14 runtime\.gpu\.backend: expected one of auto, tensorrt, cuda/);
  });

  test("serving, preprocessing, postprocessing and metadata", () => {
    const { config } = parse(
      [
        minimal,
        "serving:\n  port: 9000\n  host: 0.0.0.0\n  max_batch_size: 8\n  max_queue_delay_ms: 2\n  timeout: 5\n  max_workers: 2\n",
        "preprocessing:\n  tokenizer: tokenizer.json\n  max_length: 128\n  resize: [224, 224]\n  normalize: imagenet\n",
        "postprocessing:\n  function: softmax\n  top_k: 3\n",
        "metadata:\n  license: MIT\n  tags: [a, b]\n",
      ].join(""),
    );
    assert.deepEqual(config.serving, {
      port: 9000,
      host: "0.0.0.0",
      max_batch_size: 8,
      max_queue_delay_ms: 2,
      timeout: 5,
      max_workers: 2,
    });
    assert.deepEqual(config.preprocessing, {
      tokenizer: "tokenizer.json",
      max_length: 128,
      resize: [224, 224],
      normalize: "imagenet",
    });
    assert.deepEqual(config.postprocessing, { function: "softmax", top_k: 3 });
    assert.deepEqual(config.metadata, { license: "MIT", tags: ["a", "b"] });
  });

  test("normalize as explicit mean and std", () => {
    const { config } = parse(`${minimal}preprocessing:\n  normalize:\n    mean: [0.5]\n    std: [0.5]\n`);
    assert.deepEqual(config.preprocessing?.normalize, { mean: [0.5], std: [0.5] });
  });
});

describe("errors and warnings name file, line and column", () => {
  test("YAML syntax error", () => {
    const error = parseError("name: m\nmodel:\n  source: [unclosed\n");
    assert.match(error.message, /^gpux\.yml:\d+:\d+ invalid YAML: /);
    assert.match(error.hint ?? "", /YAML syntax/);
  });

  test("a tab-indented line is a syntax error at its line", () => {
    const error = parseError("name: m\nmodel:\n\tsource: x\n");
    assert.match(error.message, /^gpux\.yml:3:\d+ invalid YAML/);
  });

  test("a duplicate key is an error", () => {
    const error = parseError(`${minimal}name: other\n`);
    assert.match(error.message, /^gpux\.yml:4:1 invalid YAML: .*[Uu]nique/);
  });

  test("missing required fields are reported together", () => {
    const error = parseError("version: '2'\n");
    assert.match(error.message, /gpux\.yml:1:1 name: required field is missing/);
    assert.match(error.message, /gpux\.yml:1:1 model: required field is missing/);
  });

  test("a wrong type names the field path", () => {
    const error = parseError(`${minimal}runtime:\n  timeout: soon\n`);
    assert.match(error.message, /^gpux\.yml:5:12 runtime\.timeout: expected number, received string/);
  });

  test("not a mapping", () => {
    assert.match(parseError("- a\n- b\n").message, /gpux\.yml:1:1 expected a mapping/);
  });

  test("unknown keys are warnings with their position, and the rest still loads", () => {
    const { config, warnings } = parse(
      `${minimal}runtim:\n  timeout: 5\nruntime:\n  timeout: 7\n  gpu:\n    memroy: 2GB\ninputs:\n  x:\n    shapes: [1]\n`,
    );
    assert.equal(config.runtime.timeout, 7);
    assert.deepEqual(warnings, [
      "gpux.yml:4:1 unknown field runtim is ignored (typo?)",
      "gpux.yml:9:5 unknown field runtime.gpu.memroy is ignored (typo?)",
      "gpux.yml:12:5 unknown field inputs.x.shapes is ignored (typo?)",
    ]);
  });

  test("reserved fields are accepted with a warning that they have no effect", () => {
    const { warnings } = parse(`${minimal}runtime:\n  batch_size: 4\npreprocessing:\n  custom: {a: 1}\n`);
    assert.deepEqual(warnings, [
      "gpux.yml:5:3 runtime.batch_size is reserved and has no effect (see docs/reference/gpux-yml.md)",
      "gpux.yml:7:3 preprocessing.custom is reserved and has no effect (see docs/reference/gpux-yml.md)",
    ]);
  });
});

describe("environment variable expansion", () => {
  const env = "GPUX_TEST_CONFIG_VAR";

  test("$VAR with and without a default in string values", () => {
    process.env[env] = "from-env";
    try {
      const { config } = parse(
        `name: \${${env}}\nmodel:\n  source: \${GPUX_TEST_UNSET_VAR:-fallback.onnx}\ndescription: "cost $\${x}"\n`,
      );
      assert.equal(config.name, "from-env");
      assert.equal(config.model.source, "fallback.onnx");
      assert.equal(config.description, `cost $${"{x}"}`);
    } finally {
      delete process.env[env];
    }
  });

  test("an empty variable takes the default", () => {
    process.env[env] = "";
    try {
      assert.equal(parse(`name: \${${env}:-dflt}\nmodel:\n  source: m.onnx\n`).config.name, "dflt");
    } finally {
      delete process.env[env];
    }
  });

  test("an unset variable without a default is an error at its position", () => {
    const error = parseError(`${minimal}serving:\n  api_key: \${GPUX_TEST_UNSET_VAR}\n`);
    assert.match(
      error.message,
      /^gpux\.yml:5:12 serving\.api_key: environment variable GPUX_TEST_UNSET_VAR is not set/,
    );
  });
});

describe("loadConfig", () => {
  const dir = tempDir();

  test("resolves model.source against the file's folder", async () => {
    const path = join(dir, "gpux.yml");
    writeFileSync(path, "name: m\nmodel:\n  source: sub/model.onnx\n");
    const loaded = await loadConfig(path);
    assert.equal(loaded.dir, dir);
    assert.equal(loaded.modelPath, join(dir, "sub", "model.onnx"));
  });

  test("messages use the path the user gave", async () => {
    const path = join(dir, "bad.yml");
    writeFileSync(path, "name: [\n");
    await assert.rejects(loadConfig(path), (error: Error) => error.message.startsWith(`${path}:`));
  });

  test("a missing file is NotFound", async () => {
    await assert.rejects(loadConfig(join(dir, "nope.yml")), NotFoundError);
  });
});
