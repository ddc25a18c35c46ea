"""Which Python packages each converter needs, and which of them this interpreter has."""

import importlib.metadata
import importlib.util
import os
import platform
import sys
import sysconfig

from .protocol import BridgeError

# converter -> [(import name, pip name)]
NEEDS = {
    "pytorch": [
        ("torch", "torch"),
        ("transformers", "transformers"),
        ("onnx", "onnx"),
        ("onnxruntime", "onnxruntime"),
    ],
    # Keras 3 on its torch backend: .keras and Keras .h5 files, no TensorFlow needed
    "keras": [
        ("keras", "keras"),
        ("torch", "torch"),
        ("onnx", "onnx"),
        ("onnxruntime", "onnxruntime"),
    ],
    # TensorFlow's own formats (SavedModel, transformers' tf_model.h5) through tf2onnx
    "tensorflow": [
        ("tensorflow", "tensorflow"),
        ("tf2onnx", "tf2onnx"),
        ("onnx", "onnx"),
        ("onnxruntime", "onnxruntime"),
    ],
}


def _version(pip_name):
    for name in (pip_name, pip_name + "-cpu"):
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def externally_managed():
    """True for a distribution's Python that refuses `pip install` outside a virtual environment (PEP 668)."""
    in_venv = sys.prefix != sys.base_prefix
    marker = os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")
    return not in_venv and os.path.exists(marker)


def check(converter):
    """{'available': {pip: version}, 'missing': [pip]} without importing the heavy packages."""
    available, missing = {}, []
    for module, pip_name in NEEDS[converter]:
        if importlib.util.find_spec(module) is None:
            missing.append(pip_name)
        else:
            available[pip_name] = _version(pip_name) or "unknown"
    return {"available": available, "missing": missing}


def require(converter):
    """Stop with a missing_packages error naming every package the converter lacks."""
    missing = check(converter)["missing"]
    if missing:
        raise BridgeError(
            "missing_packages",
            f"The {converter} converter needs Python packages that are not installed: {', '.join(missing)}.",
            packages=missing,
            converter=converter,
            externally_managed=externally_managed(),
        )


def doctor():
    """Everything `gpux doctor` shows about this interpreter."""
    return {
        "python": sys.executable,
        "python_version": platform.python_version(),
        "externally_managed": externally_managed(),
        "converters": {name: check(name) for name in NEEDS},
    }


def tool_versions(converter):
    return check(converter)["available"]
