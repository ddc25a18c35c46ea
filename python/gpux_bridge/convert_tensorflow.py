"""The `convert` command for TensorFlow's own formats: a SavedModel and transformers' tf_model.h5, exported with
tf2onnx and validated against TensorFlow on the same inputs. It needs tensorflow and tf2onnx (tf2onnx is not in
every package index; Keras files go through convert_keras.py, which needs neither)."""

import math
import os

from .protocol import BridgeError, emit, progress
from .requirements import tool_versions

CASES = [1, 2, 3]


def _load(model_dir, head):
    """(callable, [tf.TensorSpec]) for the first TensorFlow model found in the folder."""
    import tensorflow as tf

    if os.path.isfile(os.path.join(model_dir, "saved_model.pb")):
        loaded = tf.saved_model.load(model_dir)
        function = loaded.signatures["serving_default"]
        specs = [s for s in function.structured_input_signature[1].values()]
        return function, specs
    import transformers

    class_name = "TF" + head["auto_class"]
    if not hasattr(transformers, class_name):
        raise BridgeError(
            "unsupported",
            f"transformers {transformers.__version__} cannot load tf_model.h5 (it has no {class_name}).",
            hint="Use a repo with PyTorch weights, or install transformers<5 next to tensorflow.",
        )
    model = getattr(transformers, class_name).from_pretrained(model_dir)
    specs = [
        tf.TensorSpec((None, None), tf.int32, name="input_ids"),
        tf.TensorSpec((None, None), tf.int32, name="attention_mask"),
    ]
    return model, specs


def _random_inputs(specs, batch, seed):
    import numpy as np

    rng = np.random.default_rng(seed)
    feeds = {}
    for spec in specs:
        shape = [batch if i == 0 else (d if d is not None else 8) for i, d in enumerate(spec.shape)]
        if spec.dtype.is_integer:
            feeds[spec.name] = rng.integers(0, 2 if spec.name == "attention_mask" else 100, shape).astype(
                spec.dtype.as_numpy_dtype)
        else:
            feeds[spec.name] = rng.standard_normal(shape).astype(spec.dtype.as_numpy_dtype)
    return feeds


def convert_tensorflow(request):
    import numpy as np
    import onnxruntime
    import tensorflow as tf
    import tf2onnx

    model_dir, out_dir = request["model_dir"], request["out_dir"]
    opset, atol = int(request["opset"]), float(request["atol"])
    onnx_path = os.path.join(out_dir, "model.onnx")
    model, specs = _load(model_dir, request["head"])
    progress("export", f"exporting with tf2onnx, opset {opset}")
    function = tf.function(lambda *args: model(*args))
    tf2onnx.convert.from_function(function, input_signature=specs, opset=opset, output_path=onnx_path)
    session = onnxruntime.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    output_names = [o.name for o in session.get_outputs()]
    worst = {name: 0.0 for name in output_names}
    for index, batch in enumerate(CASES):
        progress("validate", f"comparing with TensorFlow on batch {batch}")
        feeds = _random_inputs(specs, batch, seed=index + 1)
        expected = model(*[tf.constant(feeds[s.name]) for s in specs])
        expected = list(expected.values()) if isinstance(expected, dict) else tf.nest.flatten(expected)
        actual = session.run(None, feeds)
        for name, e, a in zip(output_names, expected, actual):
            diff = float(np.abs(np.asarray(e, np.float64) - a.astype(np.float64)).max())
            worst[name] = diff if math.isnan(diff) or diff > worst[name] else worst[name]
    passed = all(not math.isnan(d) and d <= atol for d in worst.values())
    emit(
        "result",
        onnx="model.onnx",
        task=request["task"],
        opset=opset,
        inputs=[s.name for s in specs],
        outputs=output_names,
        validation={"atol": atol, "max_abs_diff": worst, "cases": [str(b) for b in CASES], "passed": passed},
        tools=tool_versions("tensorflow"),
    )
