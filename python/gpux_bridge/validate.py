"""Run the same inputs through the source framework and ONNX Runtime; the largest difference per output."""

import math
import os

from .protocol import progress

TEXT_CASES = [(1, 8), (2, 16), (3, 5)]
IMAGE_CASES = [(1, 0), (2, 0), (3, 0)]


def max_abs_diff(expected, actual):
    """Largest |expected - actual| in float64: inf when the shapes differ, nan when any difference is nan."""
    import numpy as np

    if expected.shape != actual.shape:
        return math.inf
    if expected.size == 0:
        return 0.0
    diff = np.abs(expected.astype(np.float64) - actual.astype(np.float64))
    return float("nan") if np.isnan(diff).any() else float(diff.max())


def validate_torch(wrapper, onnx_path, task, atol, make_inputs, label="export"):
    """{'atol', 'max_abs_diff': {output: float}, 'cases': ['2x16', …], 'passed'}."""
    import onnxruntime
    import torch

    session = onnxruntime.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    cases = IMAGE_CASES if task == "image-classification" else TEXT_CASES
    worst = {name: 0.0 for name in wrapper.output_names}
    described = []
    for index, (batch, length) in enumerate(cases):
        names, inputs = make_inputs(batch, length, seed=index + 1)
        described.append(f"{batch}" if length == 0 else f"{batch}x{length}")
        progress("validate", f"{label}: comparing with PyTorch on {described[-1]}")
        with torch.no_grad():
            expected = [t.numpy() for t in wrapper(*inputs)]
        actual = session.run(wrapper.output_names, {n: t.numpy() for n, t in zip(names, inputs)})
        for name, e, a in zip(wrapper.output_names, expected, actual):
            diff = max_abs_diff(e, a)
            worst[name] = diff if math.isnan(diff) or diff > worst[name] else worst[name]
    passed = all(not math.isnan(d) and d <= atol for d in worst.values())
    return {"atol": atol, "max_abs_diff": worst, "cases": described, "passed": passed}


def optimize(onnx_path, out_path):
    """ONNX Runtime's extended graph optimisations (portable across machines), saved to out_path."""
    import onnxruntime

    progress("optimize", "running ONNX Runtime graph optimisations")
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = out_path
    # weights beside the model, as the export writes them, so the optimised model also opens quickly
    options.add_session_config_entry(
        "session.optimized_model_external_initializers_file_name", os.path.basename(out_path) + "_data")
    options.add_session_config_entry("session.optimized_model_external_initializers_min_size_in_bytes", "1024")
    onnxruntime.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])
