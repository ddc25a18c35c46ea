/** Which ONNX file of a repo a variant takes: model.onnx and its variants, or Optimum's merged decoder. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { findOnnxFile, listOnnxVariants } from "../../src/convert/onnx-variants.js";

/** An Optimum causal-LM export (Xenova's repos): three decoders per variant, no model.onnx. */
const optimumDecoder = ["", "_quantized", "_fp16"].flatMap((suffix) =>
  ["decoder_model", "decoder_with_past_model", "decoder_model_merged"].map(
    (name) => `onnx/${name}${suffix}.onnx`,
  ),
);

describe("findOnnxFile", () => {
  test("onnx-community layout: onnx/model.onnx and its variants", () => {
    const files = ["onnx/model.onnx", "onnx/model_q4.onnx", "onnx/model_fp16.onnx", "config.json"];
    assert.equal(findOnnxFile(files), "onnx/model.onnx");
    assert.equal(findOnnxFile(files, "q4"), "onnx/model_q4.onnx");
    assert.deepEqual(listOnnxVariants(files), ["fp32", "fp16", "q4"]);
  });

  test("Optimum's decoder-only export: the merged decoder, per variant", () => {
    assert.equal(findOnnxFile(optimumDecoder), "onnx/decoder_model_merged.onnx");
    assert.equal(findOnnxFile(optimumDecoder, "q8"), "onnx/decoder_model_merged_quantized.onnx");
    assert.equal(findOnnxFile(optimumDecoder, "fp16"), "onnx/decoder_model_merged_fp16.onnx");
    assert.deepEqual(listOnnxVariants(optimumDecoder), ["fp32", "fp16", "q8", "int8"]);
  });

  test("an encoder-decoder's merged decoder is not taken for the model", () => {
    const seq2seq = ["onnx/encoder_model.onnx", ...optimumDecoder];
    assert.equal(findOnnxFile(seq2seq), undefined);
  });
});
