"""gpux's Python bridge: `python -m gpux_bridge doctor|convert [--preload pytorch|keras|tensorflow]`, a JSON
request on stdin, JSON lines out. With --preload the framework is checked and imported before the request is
read, so gpux can start the bridge while the checkpoint is still downloading."""

import json
import os
import sys
import traceback

from .protocol import BridgeError, emit, open_channel

FRAMEWORKS = ("pytorch", "keras", "tensorflow")


def prepare(framework):
    """Check the framework's packages, then import what its conversion uses."""
    from .requirements import require

    # before importing the converter: its modules import torch / tensorflow at the top
    require(framework)
    # transformers imports scikit-learn (~2 s) when it is installed, for generation features an export never
    # uses; hide it from this process.
    sys.modules.setdefault("sklearn", None)
    if framework == "keras":
        # before Keras is imported: it reads its backend once; TensorFlow is not needed (nor often installed)
        os.environ["KERAS_BACKEND"] = "torch"
        import keras  # noqa: F401 — with torch, several seconds
        import onnxruntime  # noqa: F401
    if framework == "pytorch":
        import onnxruntime  # noqa: F401 — validation's
        import transformers

        from . import convert_pytorch  # noqa: F401 — torch and the export helpers

        transformers.AutoModel  # noqa: B018 — loads the auto classes (~1.5 s), as from_pretrained would


def main():
    open_channel()
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    preloaded = None
    try:
        if command == "convert" and "--preload" in sys.argv:
            preloaded = sys.argv[sys.argv.index("--preload") + 1]
            if preloaded not in FRAMEWORKS:
                raise BridgeError("bad_request", f"Unknown framework {preloaded!r} to preload.")
            prepare(preloaded)
        request = json.loads(sys.stdin.read() or "{}")
        if command == "doctor":
            from .requirements import doctor

            emit("result", **doctor())
        elif command == "convert":
            framework = request.get("framework")
            if preloaded is not None and framework != preloaded:
                raise BridgeError("bad_request", f"This bridge preloaded {preloaded}, not {framework!r}.")
            if framework in FRAMEWORKS and preloaded is None:
                prepare(framework)
            if framework == "pytorch":
                from .convert_causal_lm import convert_causal_lm, is_causal_lm
                from .convert_pytorch import convert_pytorch

                (convert_causal_lm if is_causal_lm(request) else convert_pytorch)(request)
            elif framework == "keras":
                from .convert_keras import convert_keras

                convert_keras(request)
            elif framework == "tensorflow":
                from .convert_tensorflow import convert_tensorflow

                convert_tensorflow(request)
            else:
                raise BridgeError("bad_request", f"Unknown framework {framework!r}.")
        else:
            raise BridgeError("bad_request", f"Unknown bridge command {command!r}; expected doctor or convert.")
    except BridgeError as error:
        error.send()
        return 1
    except Exception as error:  # a bug or an unexpected library failure: report it, never exit 0
        traceback.print_exc(file=sys.stderr)
        emit("error", kind="internal", message=f"{type(error).__name__}: {error}")
        return 1
    return 0


if __name__ == "__main__":
    code = main()
    # Leave without the interpreter's teardown: with torch loaded it takes about a second and does nothing
    # gpux needs (every file is written and closed, every line flushed by now).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
