import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { repoRoot } from "../helpers/cli.js";
import { python, requirePython } from "../helpers/python.js";
import { causalLmPythonModules, tinyCausalLmsDir } from "../helpers/tiny-causal-lms.js";

/**
 * The bridge's causal-LM validation (python/gpux_bridge/causal_lm_validate.py) run directly: the tiny Qwen3's
 * ONNX against the PyTorch model it was exported from, and against a model with other weights. The greedy
 * check must refuse the second on its own, with --atol so wide that the logits check lets anything through.
 */
const script = `
import json, sys
sys.path.insert(0, ${JSON.stringify(join(repoRoot, "python"))})
import torch, transformers
from gpux_bridge.causal_lm_export import CausalLMWithCache
from gpux_bridge.causal_lm_validate import validate_causal_lm
checkpoint, onnx_path = sys.argv[1], sys.argv[2]
source = transformers.AutoModelForCausalLM.from_pretrained(checkpoint, attn_implementation="eager").eval()
torch.manual_seed(5)
other = transformers.AutoModelForCausalLM.from_config(source.config, attn_implementation="eager").eval()
eos = [151645, 151643]
print(json.dumps({
    "source": validate_causal_lm(CausalLMWithCache(source).eval(), onnx_path, 1e-4, eos),
    "other": validate_causal_lm(CausalLMWithCache(other).eval(), onnx_path, 1e9, eos),
}))
`;

interface Validation {
  passed: boolean;
  maxAbsDiff: Record<string, number>;
  greedy: { identical: boolean; runs: Array<{ torch: number[]; onnx: number[] }> };
}

test("the causal-LM validation passes the model the ONNX came from and refuses other weights on greedy tokens alone", async (t) => {
  if (!requirePython(t, [...causalLmPythonModules])) return;
  const fixtures = tinyCausalLmsDir();
  const ran = spawnSync(
    python,
    ["-c", script, join(fixtures, "qwen3-safetensors"), join(fixtures, "qwen3", "onnx", "model.onnx")],
    { encoding: "utf8" },
  );
  assert.equal(ran.status, 0, ran.stderr);
  const { source, other } = JSON.parse(ran.stdout.trim().split("\n").pop() as string) as Record<
    string,
    Validation
  >;
  assert.equal(source?.passed, true, JSON.stringify(source));
  assert.equal(source?.greedy.identical, true);
  // the logits check alone would pass (atol 1e9): only the greedy tokens can refuse it
  assert.ok(Object.values(other?.maxAbsDiff ?? {}).every((diff) => diff < 1e9));
  assert.equal(other?.greedy.identical, false);
  assert.equal(other?.passed, false);
  assert.ok(other?.greedy.runs.some((run) => run.torch.join() !== run.onnx.join()));
});
