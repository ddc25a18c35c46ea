import { readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./cli.js";
import type { FakeRepo } from "./fake-hub.js";
import { repoFromFolder } from "./fake-hub-repos.js";
import { generatedFixtureDir } from "./generated-fixture.js";

const script = join(repoRoot, "test", "fixtures", "make_decoder_layouts.py");
/** The bridge code the script exports with: a change there must regenerate the fixtures too. */
const exportCode = ["causal_lm_export.py", "causal_lm_validate.py", "validate.py"].map((name) =>
  join(repoRoot, "python", "gpux_bridge", name),
);

/** Python modules the script needs (for missingPythonModules). */
export const decoderLayoutPythonModules = [
  "torch",
  "transformers",
  "tokenizers",
  "onnx",
  "onnxruntime",
] as const;

/** Names of the repos make_decoder_layouts.py writes (its docstring says what each one is). */
export const decoderLayoutNames = [
  "llama-spm",
  "llama-metaspace",
  "llama-logits-to-keep",
  "llama-merged",
  "llama-genai",
] as const;
export type DecoderLayoutName = (typeof decoderLayoutNames)[number];

/** One text of the stream tests, as Python `tokenizers` encodes (no special tokens) and decodes it. */
export interface StreamText {
  text: string;
  ids: number[];
  decoded: string;
}

export interface DecoderLayoutReference {
  max_new_tokens: number;
  eos_token_id: number[];
  vocab_size: number;
  prompt: string;
  /** tokenizer.encode(prompt).ids (with <s>). */
  input_ids: number[];
  /** transformers' generate(do_sample=False): ends with </s>. */
  output_ids: number[];
  /** tokenizer.decode(output_ids, skip_special_tokens=True). */
  text: string;
  stream: StreamText[];
}

/** The folder of every repo, generated once per version of the script and the bridge code it uses. */
export function decoderLayoutsDir(): string {
  return generatedFixtureDir("decoder-layouts", script, exportCode);
}

export function decoderLayoutReference(name: DecoderLayoutName): DecoderLayoutReference {
  return JSON.parse(
    readFileSync(join(decoderLayoutsDir(), name, "reference.json"), "utf8"),
  ) as DecoderLayoutReference;
}

/** A repo as the Hub would serve it (reference.json left out), tagged text-generation. */
export function decoderLayoutRepo(name: DecoderLayoutName, id: string): FakeRepo {
  const repo = repoFromFolder(join(decoderLayoutsDir(), name), id, { pipelineTag: "text-generation" });
  delete repo.files["reference.json"];
  return repo;
}
