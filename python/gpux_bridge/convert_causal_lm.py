"""The `convert` command for transformers causal LMs: export with the KV cache (causal_lm_export.py), validate
(logits within atol and greedy tokens identical to generate(), causal_lm_validate.py), optionally optimise."""

import os

from .causal_lm_export import export_causal_lm
from .causal_lm_validate import validate_causal_lm
from .external_data import externalize_weights
from .protocol import BridgeError, emit, progress
from .pytorch_export import _without_whole_graph_shape_inference, load_model
from .requirements import tool_versions
from .validate import optimize

TASK = "text-generation"


def is_causal_lm(request):
    """A request for a decoder whose past keys and values are graph inputs and outputs."""
    return bool((request.get("head") or {}).get("kv_cache")) or request.get("task") == TASK


def eos_ids(model):
    """generation_config.json's eos_token_id (an id or a list), else config.json's; [] when neither names one."""
    for source in (getattr(model, "generation_config", None), model.config):
        eos = getattr(source, "eos_token_id", None)
        if eos is not None:
            return list(eos) if isinstance(eos, (list, tuple)) else [eos]
    return []


def _export(model, onnx_path, opset, fast):
    """The fast export (whole-graph shape inference skipped, see pytorch_export.py), the full one if it raises;
    the weights are then moved to model.onnx_data beside the graph."""
    if fast:
        try:
            exported = export_causal_lm(model, onnx_path, opset, fast_exporter=_without_whole_graph_shape_inference)
            externalize_weights(onnx_path, "model.onnx_data")
            return exported
        except Exception:  # noqa: BLE001 — any failure of the fast path is retried the standard way
            progress("export", "fast export failed; exporting again with full shape inference")
    try:
        exported = export_causal_lm(model, onnx_path, opset)
        externalize_weights(onnx_path, "model.onnx_data")
        return exported
    except Exception as error:  # the exporter's own failures: name them, gpux exits non-zero
        raise BridgeError("export_failed", f"torch.onnx.export failed: {str(error).strip().splitlines()[0]}",
                          hint="Try another --opset, or run with --verbose for the exporter's log.") from error


def convert_causal_lm(request):
    import torch

    torch.manual_seed(0)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    model_dir, out_dir = request["model_dir"], request["out_dir"]
    opset, atol = int(request["opset"]), float(request["atol"])
    onnx_path = os.path.join(out_dir, "model.onnx")
    model = load_model(model_dir, TASK, request["head"])
    # eager attention traces to plain MatMul/Softmax ops; SDPA's fused kernel does not trace with a cache
    model.set_attn_implementation("eager")
    progress("export", f"exporting {TASK} with its KV cache, opset {opset}")
    wrapper, input_names, output_names = _export(model, onnx_path, opset, fast=True)
    eos = eos_ids(model)
    progress("validate", "comparing logits and greedy tokens with PyTorch")
    validation = validate_causal_lm(wrapper, onnx_path, atol, eos)
    if not validation["passed"]:
        # as for the other heads: rule out the fast export as the cause before failing
        progress("export", "validation failed; exporting again with full shape inference")
        wrapper, input_names, output_names = _export(model, onnx_path, opset, fast=False)
        validation = validate_causal_lm(wrapper, onnx_path, atol, eos)
    files = [name for name in ("model.onnx", "model.onnx_data") if os.path.exists(os.path.join(out_dir, name))]
    result = {
        "onnx": "model.onnx",
        "files": files,
        "task": TASK,
        "opset": opset,
        "inputs": input_names,
        "outputs": output_names,
        "validation": validation,
        "tools": tool_versions("pytorch"),
    }
    if validation["passed"] and request.get("optimize"):
        optimized = os.path.join(out_dir, "model.optimized.onnx")
        optimize(onnx_path, optimized)
        result["optimized"] = "model.optimized.onnx"
        result["files"] += [name for name in ("model.optimized.onnx", "model.optimized.onnx_data")
                            if os.path.exists(os.path.join(out_dir, name))]
        progress("validate", "optimised: comparing logits and greedy tokens with PyTorch")
        result["optimizedValidation"] = validate_causal_lm(wrapper, optimized, atol, eos)
    emit("result", **result)
