import assert from "node:assert/strict";
import { readFileSync, truncateSync } from "node:fs";
import { test } from "node:test";
import { parseOnnxMetadata, readOnnxMetadata } from "../../src/onnx/read-onnx-metadata.js";
import { UserError } from "../../src/util/errors.js";
import { writeModel } from "../helpers/models.js";
import { tempDir } from "../helpers/temp-dir.js";

// 4 MB of inline weights between the fields metadata needs, as in a single-file exported model.
const path = writeModel(tempDir(), "weights.onnx", {
  inputs: [{ name: "x", dtype: "float32", shape: [1] }],
  outputs: [{ name: "y", dtype: "float32", shape: [1] }],
  nodes: [{ op: "Add", inputs: ["x", "w"], outputs: ["y"] }],
  initializers: [{ name: "w", dtype: "float32", dims: [1_000_000], values: new Array(1_000_000).fill(0.5) }],
  producer: "gpux-tests",
  metadata: { author: "gpux", license: "MIT" },
  opset: 17,
});

test("metadata read without the graph equals metadata parsed from the whole file", async () => {
  const read = await readOnnxMetadata(path);
  assert.deepEqual(read, parseOnnxMetadata(readFileSync(path)));
  assert.equal(read.producerName, "gpux-tests");
  assert.deepEqual(read.metadataProps, { author: "gpux", license: "MIT" });
  assert.equal(read.opsets[""], 17);
});

test("a truncated file is still a clear user error", async () => {
  truncateSync(path, 2_000_000);
  await assert.rejects(
    readOnnxMetadata(path),
    (error) => error instanceof UserError && /not a valid ONNX/.test(error.message),
  );
});
