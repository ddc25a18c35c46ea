"""Check an exported causal LM (causal_lm_export.py) against PyTorch: logits and present values within atol on
prefill and decode steps, and greedy tokens from an ONNX Runtime loop identical to transformers' generate()."""

import math

import numpy as np
import torch

from .causal_lm_export import cache_shape, empty_past, feeds, positions
from .validate import max_abs_diff

# (batch, past length, new tokens): prefills of one and two rows (the second left-padded), and decode steps.
LOGIT_CASES = [(1, 0, 8), (2, 0, 5), (1, 6, 1), (2, 3, 2)]
GREEDY_STEPS = 8
GREEDY_PROMPT_LENGTHS = (5, 11)


def open_session(onnx_path):
    import onnxruntime

    return onnxruntime.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])


def _worse(a, b):
    return a if math.isnan(a) or a > b else b


def session_feeds(session, inputs):
    names = [i.name for i in session.get_inputs()]
    return dict(zip(names, (t.numpy() for t in inputs)))


def compare_logits(wrapper, session, seed=1):
    """Largest |torch - onnx| over LOGIT_CASES, for logits and for the present values."""
    config = wrapper.model.config
    vocab = config.get_text_config(decoder=True).vocab_size
    worst = {"logits": 0.0, "present": 0.0}
    for index, (batch, past_length, new) in enumerate(LOGIT_CASES):
        generator = torch.Generator().manual_seed(seed + index)
        ids = torch.randint(0, vocab, (batch, new), generator=generator)
        mask = torch.ones((batch, past_length + new), dtype=torch.int64)
        if batch > 1:
            mask[-1, :2] = 0
        inputs = feeds(wrapper, ids, mask, empty_past(config, batch, past_length, generator))
        with torch.no_grad():
            expected = [t.numpy() for t in wrapper(*inputs)]
        actual = session.run(None, session_feeds(session, inputs))
        worst["logits"] = _worse(max_abs_diff(expected[0], actual[0]), worst["logits"])
        for e, a in zip(expected[1:], actual[1:]):
            worst["present"] = _worse(max_abs_diff(e, a), worst["present"])
    return worst, [f"{b}x{p}+{n}" for b, p, n in LOGIT_CASES]


def onnx_greedy(session, config, prompt_ids, max_new_tokens, eos_ids=()):
    """Greedy decoding with the KV cache fed back, one row: the loop gpux runs, in its simplest form.
    Returns (new token ids, smallest gap between the best and second-best logit seen)."""
    layers = cache_shape(config)[0]
    names = [i.name for i in session.get_inputs()]
    ids = np.asarray([prompt_ids], dtype=np.int64)
    past = [t.numpy() for t in empty_past(config, 1)]
    mask = np.ones((1, ids.shape[1]), dtype=np.int64)
    tokens, margin = [], math.inf
    for _ in range(max_new_tokens):
        values = {"input_ids": ids, "attention_mask": mask}
        if "position_ids" in names:
            values["position_ids"] = positions(torch.from_numpy(mask), ids.shape[1]).numpy()
        for i in range(layers):
            values[f"past_key_values.{i}.key"], values[f"past_key_values.{i}.value"] = past[2 * i], past[2 * i + 1]
        outputs = session.run(None, values)
        last = outputs[0][0, -1]
        top2 = np.partition(last, -2)[-2:]
        margin = min(margin, float(abs(top2[1] - top2[0])))
        token = int(last.argmax())
        tokens.append(token)
        if token in eos_ids:
            break
        past = outputs[1:]
        ids = np.asarray([[token]], dtype=np.int64)
        mask = np.ones((1, mask.shape[1] + 1), dtype=np.int64)
    return tokens, margin


def torch_generate(model, prompt_ids, max_new_tokens, eos_ids=(), pad_id=None):
    """transformers' generate(do_sample=False): greedy, no other logits processor, stopping on eos_ids."""
    from transformers import GenerationConfig

    generation = GenerationConfig(do_sample=False, max_new_tokens=max_new_tokens,
                                  eos_token_id=list(eos_ids) or None,
                                  pad_token_id=pad_id if pad_id is not None else (list(eos_ids) or [0])[0])
    ids = torch.tensor([prompt_ids], dtype=torch.int64)
    # generate() fills every option left unset from model.generation_config (the repo's
    # generation_config.json): a repetition_penalty there would change the tokens. Only greedy is compared.
    repo_defaults, model.generation_config = model.generation_config, GenerationConfig()
    try:
        with torch.no_grad():
            out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), generation_config=generation)
    finally:
        model.generation_config = repo_defaults
    return out[0, ids.shape[1]:].tolist()


def validate_causal_lm(wrapper, onnx_path, atol, eos_ids=(), seed=7):
    """The conversion report: both checks, each with its figures; passed only when both pass."""
    session = open_session(onnx_path)
    worst, cases = compare_logits(wrapper, session)
    config = wrapper.model.config
    vocab = config.get_text_config(decoder=True).vocab_size
    generator = torch.Generator().manual_seed(seed)
    runs = []
    for length in GREEDY_PROMPT_LENGTHS:
        prompt = torch.randint(0, vocab, (length,), generator=generator).tolist()
        expected = torch_generate(wrapper.model, prompt, GREEDY_STEPS, eos_ids)
        actual, margin = onnx_greedy(session, config, prompt, GREEDY_STEPS, eos_ids)
        runs.append({"prompt_length": length, "torch": expected, "onnx": actual, "min_top2_gap": margin})
    identical = all(r["torch"] == r["onnx"] for r in runs)
    logits_ok = all(not math.isnan(d) and d <= atol for d in worst.values())
    return {
        "atol": atol,
        "max_abs_diff": worst,
        "cases": cases,
        "greedy": {"steps": GREEDY_STEPS, "identical": identical, "runs": runs},
        "passed": logits_ok and identical,
    }
