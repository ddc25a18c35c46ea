"""The `convert` command for transformers PyTorch checkpoints: export, validate, optionally optimise."""

import os

from .protocol import BridgeError, emit, progress
from .pytorch_export import example_inputs, export
from .requirements import tool_versions
from .validate import optimize, validate_torch


def convert_pytorch(request):
    import torch

    torch.manual_seed(0)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    model_dir, out_dir = request["model_dir"], request["out_dir"]
    task, opset, atol = request["task"], int(request["opset"]), float(request["atol"])
    onnx_path = os.path.join(out_dir, "model.onnx")
    def run_export(fast, model=None):
        try:
            return export(model_dir, onnx_path, task, request["head"], opset, fast=fast, model=model)
        except BridgeError:
            raise
        except Exception as error:  # the exporter's own failures: name them, gpux exits non-zero
            raise BridgeError("export_failed", f"torch.onnx.export failed: {str(error).strip().splitlines()[0]}",
                              hint="Try another --opset, or run with --verbose for the exporter's log.") from error

    wrapper, input_names, output_names = run_export(fast=True)

    def make_inputs(batch, length, seed):
        return example_inputs(wrapper.model, task, batch, length, seed)

    validation = validate_torch(wrapper, onnx_path, task, atol, make_inputs)
    if not validation["passed"]:
        # The fast export skips whole-graph shape inference; before failing, rule it out as the cause.
        progress("export", "validation failed; exporting again with full shape inference")
        wrapper, input_names, output_names = run_export(fast=False, model=wrapper.model)
        validation = validate_torch(wrapper, onnx_path, task, atol, make_inputs)
    files = [name for name in ("model.onnx", "model.onnx_data") if os.path.exists(os.path.join(out_dir, name))]
    result = {
        "onnx": "model.onnx",
        "files": files,
        "task": task,
        "opset": opset,
        "inputs": input_names,
        "outputs": output_names,
        "validation": validation,
        "tools": tool_versions("pytorch"),
    }
    if result["validation"]["passed"] and request.get("optimize"):
        optimized = os.path.join(out_dir, "model.optimized.onnx")
        optimize(onnx_path, optimized)
        result["optimized"] = "model.optimized.onnx"
        result["files"] += [name for name in ("model.optimized.onnx", "model.optimized.onnx_data")
                            if os.path.exists(os.path.join(out_dir, name))]
        result["optimized_validation"] = validate_torch(
            wrapper, optimized, task, atol, make_inputs, label="optimised")
    emit("result", **result)
