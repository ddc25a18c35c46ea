"""gpux's Python bridge: `python -m gpux_bridge doctor|convert`, a JSON request on stdin, JSON lines out."""

import json
import os
import sys
import traceback

from .protocol import BridgeError, emit, open_channel


def main():
    open_channel()
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    try:
        request = json.loads(sys.stdin.read() or "{}")
        if command == "doctor":
            from .requirements import doctor

            emit("result", **doctor())
        elif command == "convert":
            framework = request.get("framework")
            if framework in ("pytorch", "tensorflow"):
                from .requirements import require

                # before importing the converter: its modules import torch / tensorflow at the top
                require(framework)
                # transformers imports scikit-learn (~2 s) when it is installed, for generation features an
                # export never uses; hide it from this process.
                sys.modules.setdefault("sklearn", None)
            if framework == "pytorch":
                from .convert_pytorch import convert_pytorch

                convert_pytorch(request)
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
