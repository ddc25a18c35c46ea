import { OpenAiRequestError } from "../../openai-error.js";

/**
 * OpenAI's `dimensions`: keep the first `dimensions` values and rescale them to unit length, as its
 * text-embedding-3 models do (Matryoshka truncation); more than the model has is a 400.
 */
export function truncateEmbedding(vector: readonly number[], dimensions: number): number[] {
  if (dimensions > vector.length) {
    throw new OpenAiRequestError(
      `'dimensions' is ${dimensions}, but this model's embeddings have ${vector.length}.`,
      { param: "dimensions", code: "invalid_value", hint: `Send at most ${vector.length}, or leave it out.` },
    );
  }
  const kept = vector.slice(0, dimensions);
  const norm = Math.sqrt(kept.reduce((sum, v) => sum + v * v, 0));
  return norm > 0 ? kept.map((v) => v / norm) : kept;
}

/**
 * `encoding_format: "base64"`: the float32 values little-endian, base64-encoded, as OpenAI's clients decode
 * them (written with an explicit byte order, whatever the host's).
 */
export function embeddingToBase64(vector: readonly number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((value, i) => {
    bytes.writeFloatLE(value, i * 4);
  });
  return bytes.toString("base64");
}
