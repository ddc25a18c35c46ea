import { readFileSync } from "node:fs";
import { join } from "node:path";
import { qwenTokenizerDir } from "./pipeline-fixtures.js";
import { writeSumIdsModel } from "./sum-ids-model.js";
import { tempDir } from "./temp-dir.js";

/**
 * The files of a text-classification repo as the Hub serves them (config.json with labels, tokenizer files,
 * onnx/model.onnx, a model card), no gpux.yml: the sum-ids model (logits = ±sum(input_ids)) and Qwen3's tokenizer.
 */
export function hubLayoutFiles(): Record<string, Uint8Array | string> {
  const model = readFileSync(join(writeSumIdsModel(tempDir()), "model.onnx"));
  return {
    "onnx/model.onnx": model,
    "config.json": JSON.stringify({
      architectures: ["Qwen3ForSequenceClassification"],
      model_type: "qwen3",
      id2label: { "0": "HIGH", "1": "LOW" },
    }),
    "tokenizer.json": readFileSync(join(qwenTokenizerDir, "tokenizer.json")),
    "tokenizer_config.json": readFileSync(join(qwenTokenizerDir, "tokenizer_config.json")),
    "README.md":
      "---\nlicense: mit\npipeline_tag: text-classification\n---\n\n# sum-ids\n\nA tiny model whose logits are the sum of its token ids.\n",
  };
}
