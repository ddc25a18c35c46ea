/** ONNX file names per variant, as Optimum and transformers.js lay them out (`onnx/model_quantized.onnx` …). */
export const onnxVariantSuffixes: Record<string, string[]> = {
  fp32: [""],
  fp16: ["_fp16"],
  q8: ["_quantized", "_int8", "_uint8"],
  int8: ["_int8", "_quantized"],
  uint8: ["_uint8"],
  q4: ["_q4"],
  q4f16: ["_q4f16"],
  bnb4: ["_bnb4"],
};

/**
 * The repo path of the ONNX model for a variant, or undefined when the repo has none. Beside `model.onnx`,
 * Optimum's decoder-only exports (decoder_model.onnx, decoder_with_past_model.onnx and
 * decoder_model_merged.onnx, which alone serves prefill and decode) give the merged decoder; not an
 * encoder-decoder's, whose decoder needs the encoder's output (encoder_model.onnx beside it).
 */
export function findOnnxFile(files: readonly string[], variant = "fp32"): string | undefined {
  const suffixes = onnxVariantSuffixes[variant] ?? [`_${variant}`];
  const set = new Set(files);
  const decoderOnly = !files.some((file) => /(^|\/)encoder_model[^/]*\.onnx$/.test(file));
  const names = decoderOnly ? ["model", "decoder_model_merged"] : ["model"];
  for (const suffix of suffixes) {
    for (const name of names) {
      for (const candidate of [`onnx/${name}${suffix}.onnx`, `${name}${suffix}.onnx`]) {
        if (set.has(candidate)) return candidate;
      }
    }
  }
  if (variant === "fp32") {
    const onnx = files.filter(
      (f) => f.endsWith(".onnx") && !/_(fp16|quantized|int8|uint8|q4|q4f16|bnb4)\.onnx$/.test(f),
    );
    if (onnx.length === 1) return onnx[0];
  }
  return undefined;
}

/** The variants a repo offers. */
export function listOnnxVariants(files: readonly string[]): string[] {
  return Object.keys(onnxVariantSuffixes).filter((variant) => findOnnxFile(files, variant) !== undefined);
}
