import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./cli.js";
import type { FakeRepo } from "./fake-hub.js";
import { repoFromFolder } from "./fake-hub-repos.js";
import { generatedFixtureDir } from "./generated-fixture.js";

const script = join(repoRoot, "test", "fixtures", "make_tiny_causal_lms.py");
/** The bridge code the script exports with: a change there must regenerate the fixtures too. */
const exportCode = ["causal_lm_export.py", "causal_lm_validate.py", "validate.py", "external_data.py"].map(
  (name) => join(repoRoot, "python", "gpux_bridge", name),
);

/** Python modules the script needs (for requirePython / missingPythonModules). */
export const causalLmPythonModules = ["torch", "transformers", "onnx", "onnxruntime"] as const;

/** Names of the repos make_tiny_causal_lms.py writes. */
export const tinyCausalLmNames = ["qwen3", "llama", "gpt2", "qwen3-safetensors"] as const;
export type TinyCausalLmName = (typeof tinyCausalLmNames)[number];

/** One reference generation: transformers' generate(do_sample=False, max_new_tokens). */
export interface ReferenceGeneration {
  /** Token ids of the prompt (the plain prompt tokenized, or the rendered chat without special tokens added). */
  input_ids: number[];
  /** The new token ids generate() returned (it stops early on an EOS id). */
  output_ids: number[];
  /** tokenizer.decode(output_ids, skip_special_tokens=True). */
  text: string;
  text_with_special_tokens: string;
}

export interface TinyCausalLmReference {
  pipeline_tag: "text-generation";
  /** e.g. Qwen3ForCausalLM. */
  architecture: string;
  max_new_tokens: number;
  /** generation_config.json's eos_token_id, as a list. */
  eos_token_id: number[];
  plain: ReferenceGeneration & { prompt: string };
  /** Absent for a model without a chat template (gpt2). */
  chat?: ReferenceGeneration & {
    messages: Array<{ role: string; content: string }>;
    add_generation_prompt: boolean;
    /** tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt). */
    rendered: string;
  };
  /** ONNX repos: the script's own ONNX Runtime check (max |torch - onnx| and the closest greedy decision). */
  onnx_check?: { max_abs_diff: { logits: number; present: number }; min_top2_logit_gap: number };
}

/**
 * The folder holding every tiny causal LM repo, generated once per version of the script and of the bridge
 * code it exports with (test-output/tiny-causal-lms-<hash>/), so later runs reuse it.
 */
export function tinyCausalLmsDir(): string {
  return generatedFixtureDir("tiny-causal-lms", script, exportCode);
}

export function tinyCausalLmReference(name: TinyCausalLmName): TinyCausalLmReference {
  return JSON.parse(
    readFileSync(join(tinyCausalLmsDir(), name, "reference.json"), "utf8"),
  ) as TinyCausalLmReference;
}

/**
 * A repo as the Hub would serve it (reference.json left out), tagged text-generation unless `extra` says
 * otherwise; `edit` may change its files first (drop the template, break the weights …).
 */
export function tinyCausalLmRepo(
  name: TinyCausalLmName,
  id: string,
  extra: Partial<FakeRepo> = {},
  edit?: (files: FakeRepo["files"]) => void,
): FakeRepo {
  const repo = repoFromFolder(join(tinyCausalLmsDir(), name), id, {
    pipelineTag: "text-generation",
    ...extra,
  });
  delete repo.files["reference.json"];
  edit?.(repo.files);
  return repo;
}
