import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import * as ort from "onnxruntime-node";
import { type Dtype, dtypes } from "../../src/onnx/dtypes.js";
import { fromFloat16Bits, toFloat16Bits } from "../../src/onnx/float16.js";
import { decodeTensor } from "../../src/runtime/decode-tensor.js";
import { encodeTensor } from "../../src/runtime/encode-tensor.js";
import { buildOnnxModel, type ModelSpec } from "../helpers/onnx-builder.js";
import { tempDir } from "../helpers/temp-dir.js";

const dir = tempDir();

async function session(name: string, spec: ModelSpec): Promise<ort.InferenceSession> {
  const path = join(dir, `${name}.onnx`);
  writeFileSync(path, buildOnnxModel(spec));
  return ort.InferenceSession.create(path);
}

/** Round-trip through a real Identity graph: encode JSON → ONNX Runtime → decode JSON. */
async function identity(dtype: Dtype, value: unknown): Promise<unknown> {
  const s = await session(`identity_${dtype}`, {
    inputs: [{ name: "x", dtype, shape: ["batch", 2] }],
    outputs: [{ name: "y", dtype, shape: ["batch", 2] }],
    nodes: [{ op: "Identity", inputs: ["x"], outputs: ["y"] }],
  });
  const out = await s.run({ x: encodeTensor({ name: "x", dtype, shape: ["batch", 2] }, value) });
  return decodeTensor(out.y as ort.Tensor).data;
}

// Expected values are written out by hand from each type's definition, not computed by gpux.
const cases: Record<Dtype, { input: unknown; expected: unknown }> = {
  float32: { input: [[0.1, -2.5]], expected: [[Math.fround(0.1), -2.5]] },
  float64: { input: [[0.1, 1e300]], expected: [[0.1, 1e300]] },
  float16: { input: [[0.1, 65504]], expected: [[0.0999755859375, 65504]] },
  int8: { input: [[-128, 127]], expected: [[-128, 127]] },
  int16: { input: [[-32768, 32767]], expected: [[-32768, 32767]] },
  int32: { input: [[-2147483648, 2147483647]], expected: [[-2147483648, 2147483647]] },
  int64: { input: [["9223372036854775807", -5]], expected: [["9223372036854775807", -5]] },
  uint8: { input: [[0, 255]], expected: [[0, 255]] },
  uint16: { input: [[0, 65535]], expected: [[0, 65535]] },
  uint32: { input: [[0, 4294967295]], expected: [[0, 4294967295]] },
  uint64: { input: [["18446744073709551615", 7]], expected: [["18446744073709551615", 7]] },
  bool: { input: [[true, false]], expected: [[true, false]] },
  string: { input: [["héllo", "世界"]], expected: [["héllo", "世界"]] },
};

describe("every dtype round-trips through a real ONNX Runtime session", () => {
  for (const dtype of dtypes) {
    test(dtype, async () => {
      const { input, expected } = cases[dtype];
      assert.deepEqual(await identity(dtype, input), expected);
    });
  }
});

describe("arithmetic on cast JSON numbers", () => {
  test("float32 Add from plain JSON numbers (the earlier tool sent float64 here and failed)", async () => {
    const s = await session("add_f32", {
      inputs: [
        { name: "a", dtype: "float32", shape: [1, 3] },
        { name: "b", dtype: "float32", shape: [1, 3] },
      ],
      outputs: [{ name: "c", dtype: "float32", shape: [1, 3] }],
      nodes: [{ op: "Add", inputs: ["a", "b"], outputs: ["c"] }],
    });
    const spec = { name: "a", dtype: "float32" as const, shape: [1, 3] };
    const out = await s.run({
      a: encodeTensor(spec, [[1, 2, 3]]),
      b: encodeTensor({ ...spec, name: "b" }, [[0.5, 0.25, -3]]),
    });
    assert.deepEqual(decodeTensor(out.c as ort.Tensor).data, [[1.5, 2.25, 0]]);
  });

  test("int64 Add beyond 2^53 keeps every digit", async () => {
    const s = await session("add_i64", {
      inputs: [{ name: "a", dtype: "int64", shape: [2] }],
      outputs: [{ name: "c", dtype: "int64", shape: [2] }],
      nodes: [{ op: "Add", inputs: ["a", "one"], outputs: ["c"] }],
      initializers: [{ name: "one", dtype: "int64", dims: [1], values: [1] }],
    });
    const out = await s.run({
      a: encodeTensor({ name: "a", dtype: "int64", shape: [2] }, ["9007199254740993", 41]),
    });
    // 9007199254740993 + 1 = 9007199254740994, not representable exactly as a JS number
    assert.deepEqual(decodeTensor(out.c as ort.Tensor).data, ["9007199254740994", 42]);
  });

  test("Cast float32 → float16 is decoded to the nearest half", async () => {
    const s = await session("cast_f16", {
      inputs: [{ name: "x", dtype: "float32", shape: [3] }],
      outputs: [{ name: "y", dtype: "float16", shape: [3] }],
      nodes: [{ op: "Cast", inputs: ["x"], outputs: ["y"], attributes: { to: 10 } }],
    });
    const out = await s.run({
      x: encodeTensor({ name: "x", dtype: "float32", shape: [3] }, [1, 1 / 3, -1e5]),
    });
    assert.deepEqual(decodeTensor(out.y as ort.Tensor).data, [1, 0.333251953125, "-Infinity"]);
  });

  test("bool Not", async () => {
    const s = await session("not", {
      inputs: [{ name: "x", dtype: "bool", shape: [3] }],
      outputs: [{ name: "y", dtype: "bool", shape: [3] }],
      nodes: [{ op: "Not", inputs: ["x"], outputs: ["y"] }],
    });
    const out = await s.run({ x: encodeTensor({ name: "x", dtype: "bool", shape: [3] }, [true, 0, 1]) });
    assert.deepEqual(decodeTensor(out.y as ort.Tensor).data, [false, true, false]);
  });
});

describe("float16 bits", () => {
  test("known encodings", () => {
    assert.equal(toFloat16Bits(1), 0x3c00);
    assert.equal(toFloat16Bits(-2), 0xc000);
    assert.equal(toFloat16Bits(65504), 0x7bff);
    assert.equal(toFloat16Bits(1e6), 0x7c00);
    assert.equal(toFloat16Bits(2 ** -24), 0x0001);
    assert.equal(fromFloat16Bits(0x3555), 0.333251953125);
    assert.ok(Number.isNaN(fromFloat16Bits(toFloat16Bits(Number.NaN))));
  });
});

describe("encodeTensor rejects bad values with the input's name", () => {
  const spec = { name: "ids", dtype: "int64" as const, shape: ["batch", 3] };
  const cases: Array<[string, unknown, RegExp]> = [
    ["wrong rank", [1, 2, 3], /Input 'ids'.*shape \[batch, 3\].*received shape \[3\]/],
    ["wrong fixed dim", [[1, 2]], /received shape \[1, 2\]/],
    [
      "ragged",
      [
        [1, 2, 3],
        [1, 2],
      ],
      /ragged/,
    ],
    ["non-numeric", [[1, "x", 3]], /element 1 is "x", expected an integer/],
    ["float for int", [[1, 2.5, 3]], /element 1 is 2.5/],
    ["unsafe number", [[1, 2, 2 ** 60]], /beyond 2\^53/],
    ["explicit shape mismatch", { data: [1, 2], shape: [1, 3] }, /needs 3 values, received 2/],
  ];
  for (const [name, value, pattern] of cases) {
    test(name, () => assert.throws(() => encodeTensor(spec, value), pattern));
  }
  test("uint8 out of range", () =>
    assert.throws(
      () => encodeTensor({ name: "p", dtype: "uint8" }, [256]),
      /expected an integer in \[0, 255\]/,
    ));
  test("float from a string", () =>
    assert.throws(() => encodeTensor({ name: "x", dtype: "float32" }, ["1.5"]), /expected a number/));
});
