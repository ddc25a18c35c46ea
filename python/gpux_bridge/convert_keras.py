"""The `convert` command for Keras models (.keras, and Keras .h5 files): loaded by Keras 3 on its torch backend,
exported to ONNX through torch, and validated against Keras on the same inputs. No TensorFlow is needed
(Keras reads .h5 with h5py); TensorFlow's own formats are convert_tensorflow.py's."""

import glob
import math
import os

from .protocol import BridgeError, emit, progress
from .requirements import tool_versions
from .validate import max_abs_diff

CASES = [1, 2, 3]
# a dimension the model leaves open (besides the batch) gets this size in the validation inputs
FREE_DIM = 8


def keras_files(model_dir):
    """The Keras model files at the top of the folder (transformers' tf_model.h5 is TensorFlow's, not Keras')."""
    found = glob.glob(os.path.join(model_dir, "*.keras")) + [
        p for p in glob.glob(os.path.join(model_dir, "*.h5")) if os.path.basename(p) != "tf_model.h5"
    ]
    return sorted(found)


def _random_inputs(model, batch, seed):
    import numpy as np

    rng = np.random.default_rng(seed)
    feeds = []
    for tensor in model.inputs:
        shape = [batch if i == 0 else (d if d is not None else FREE_DIM) for i, d in enumerate(tensor.shape)]
        dtype = np.dtype(tensor.dtype)
        if np.issubdtype(dtype, np.integer):
            feeds.append(rng.integers(0, 100, shape).astype(dtype))
        else:
            feeds.append(rng.standard_normal(shape).astype(dtype))
    return feeds


def _call(model, feeds):
    """Keras' outputs for these inputs, as numpy arrays in the model's output order."""
    import keras

    outputs = model(feeds[0] if len(feeds) == 1 else feeds, training=False)
    return [keras.ops.convert_to_numpy(t) for t in keras.tree.flatten(outputs)]


def _name_outputs(onnx_path, names):
    """The torch export names outputs by node number ('23'): give them Keras' output names."""
    import onnx

    model = onnx.load(onnx_path)
    renames = {o.name: new for o, new in zip(model.graph.output, names) if new and o.name != new}
    for node in model.graph.node:
        node.output[:] = [renames.get(n, n) for n in node.output]
        node.input[:] = [renames.get(n, n) for n in node.input]
    for output in model.graph.output:
        output.name = renames.get(output.name, output.name)
    onnx.save(model, onnx_path)


def convert_keras(request):
    import keras
    import onnxruntime

    model_dir, out_dir = request["model_dir"], request["out_dir"]
    opset, atol = int(request["opset"]), float(request["atol"])
    files = keras_files(model_dir)
    if not files:
        raise BridgeError("bad_checkpoint", f"No .keras or .h5 file in {model_dir}.")
    path = files[0]
    progress("load", f"loading {os.path.basename(path)} with Keras {keras.__version__} ({keras.backend.backend()})")
    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as error:  # Keras raises many types for a file it cannot read
        raise BridgeError(
            "bad_checkpoint",
            f"Keras cannot load {os.path.basename(path)}: {error}",
            hint="Save the model with Keras 3 (model.save('model.keras')); a TensorFlow SavedModel is not a "
            "Keras file.",
        ) from error
    if not getattr(model, "inputs", None):
        raise BridgeError(
            "unsupported",
            f"{os.path.basename(path)} is a subclassed Keras model with no declared inputs.",
            hint="Save a functional or Sequential model (with keras.Input), which says its input shapes.",
        )
    # the export traces the model, which Keras allows only once it has been called
    _call(model, _random_inputs(model, 1, seed=0))
    onnx_path = os.path.join(out_dir, "model.onnx")
    progress("export", f"exporting with Keras' ONNX export (torch), opset {opset}")
    try:
        model.export(onnx_path, format="onnx", opset_version=opset, verbose=False)
    except Exception as error:  # torch's exporter raises its own types, with pages of graph dump
        first_line = str(error).strip().split("\n")[0][:300]
        raise BridgeError(
            "unsupported",
            f"Keras could not export {os.path.basename(path)} to ONNX through torch: {first_line}",
            hint="A layer in this model does not export on Keras' torch backend; try another --opset, or "
            "export it with tf2onnx where TensorFlow and tf2onnx are installed.",
        ) from error
    output_names = list(getattr(model, "output_names", None) or [])
    _name_outputs(onnx_path, output_names)
    session = onnxruntime.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    input_names = [i.name for i in session.get_inputs()]
    output_names = [o.name for o in session.get_outputs()]
    worst = {name: 0.0 for name in output_names}
    for index, batch in enumerate(CASES):
        progress("validate", f"comparing with Keras on batch {batch}")
        feeds = _random_inputs(model, batch, seed=index + 1)
        expected = _call(model, feeds)
        actual = session.run(None, dict(zip(input_names, feeds)))
        for name, e, a in zip(output_names, expected, actual):
            diff = max_abs_diff(e, a)
            worst[name] = diff if math.isnan(diff) or diff > worst[name] else worst[name]
    passed = all(not math.isnan(d) and d <= atol for d in worst.values())
    emit(
        "result",
        onnx="model.onnx",
        files=["model.onnx"] + (["model.onnx.data"] if os.path.exists(onnx_path + ".data") else []),
        task=request["task"],
        opset=opset,
        inputs=input_names,
        outputs=output_names,
        validation={"atol": atol, "maxAbsDiff": worst, "cases": [str(b) for b in CASES], "passed": passed},
        tools=tool_versions("keras"),
    )
