import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { runCli } from "../helpers/cli.js";
import { requirePython } from "../helpers/python.js";
import { tempDir } from "../helpers/temp-dir.js";
import {
  maxAbsDiff,
  type TinyRepoName,
  tinyReference,
  tinyTransformersDir,
} from "../helpers/tiny-transformers.js";

const modules = ["torch", "transformers", "onnx", "onnxruntime", "sentence_transformers"];

const expected: Record<TinyRepoName, { task: string; inputs: string[]; outputs: string[] }> = {
  "distilbert-sst2": {
    task: "text-classification",
    inputs: ["input_ids", "attention_mask"],
    outputs: ["logits"],
  },
  "bert-sst2": {
    task: "text-classification",
    inputs: ["input_ids", "attention_mask", "token_type_ids"],
    outputs: ["logits"],
  },
  "roberta-sst2": {
    task: "text-classification",
    inputs: ["input_ids", "attention_mask"],
    outputs: ["logits"],
  },
  "bert-ner": {
    task: "token-classification",
    inputs: ["input_ids", "attention_mask", "token_type_ids"],
    outputs: ["logits"],
  },
  "bert-sentence-embedding": {
    task: "feature-extraction",
    inputs: ["input_ids", "attention_mask", "token_type_ids"],
    outputs: ["last_hidden_state", "sentence_embedding"],
  },
  "vit-classifier": { task: "image-classification", inputs: ["pixel_values"], outputs: ["logits"] },
};

interface ConvertJson {
  onnx: string;
  report: {
    task: string;
    inputs: string[];
    outputs: string[];
    validation: { passed: boolean; atol: number; maxAbsDiff: Record<string, number>; cases: string[] };
    cached?: boolean;
  };
}

for (const [name, want] of Object.entries(expected) as Array<
  [TinyRepoName, (typeof expected)[TinyRepoName]]
>) {
  test(`gpux convert ${name}: ${want.task} head, validated, and gpux run matches transformers`, async (t) => {
    if (!requirePython(t, modules)) return;
    const repo = join(tinyTransformersDir(), name);
    const out = join(tempDir(), "onnx");
    const converted = await runCli(["convert", repo, "--output", out, "--json"]);
    assert.equal(converted.code, 0, converted.stderr);
    const { onnx, report } = JSON.parse(converted.stdout) as ConvertJson;
    assert.equal(report.task, want.task);
    assert.deepEqual(report.inputs, want.inputs);
    assert.deepEqual(report.outputs, want.outputs);
    assert.equal(report.validation.passed, true);
    assert.equal(report.validation.cases.length, 3);
    for (const output of want.outputs) assert.ok((report.validation.maxAbsDiff[output] as number) <= 1e-4);

    const reference = tinyReference(repo);
    // through a file: onnxruntime-node 1.30 crashes (SIGSEGV) creating a session when argv is ~30 kB long
    const request = join(out, "request.json");
    writeFileSync(request, JSON.stringify(reference.inputs));
    const ran = await runCli(["run", onnx, "--input", `@${request}`, "--json"]);
    assert.equal(ran.code, 0, ran.stderr);
    const result = (JSON.parse(ran.stdout) as { result: Record<string, unknown> }).result;
    for (const [output, values] of Object.entries(reference.outputs)) {
      const diff = maxAbsDiff(result[output], values);
      assert.ok(diff <= 1e-4, `${output}: max abs diff ${diff} vs transformers`);
    }
  });
}
