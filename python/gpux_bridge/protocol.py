"""The bridge's only way to talk to gpux: one JSON object per line on the original stdout.

Everything else a library prints (warnings, progress bars, C++ logs) is sent to stderr, which gpux shows
with --verbose only, so the protocol stream can never be corrupted by scraped text.
"""

import json
import math
import os
import sys

_channel = None


def open_channel():
    """Keep a private copy of stdout for protocol lines, then point fd 1 (and sys.stdout) at stderr."""
    global _channel
    _channel = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr


def _finite(value):
    """JSON has no NaN or infinity: they become null (gpux reads null as "not a number")."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def emit(event_type, **fields):
    """Send one event: progress, result or error."""
    line = json.dumps(_finite({"type": event_type, **fields}), allow_nan=False)
    target = _channel if _channel is not None else sys.stdout
    target.write(line + "\n")
    target.flush()


def progress(phase, message, **fields):
    emit("progress", phase=phase, message=message, **fields)


class BridgeError(Exception):
    """A failure gpux turns into a clear message: kind picks the exit code, hint says what to do."""

    def __init__(self, kind, message, hint=None, **details):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.hint = hint
        self.details = details

    def send(self):
        emit("error", kind=self.kind, message=self.message, hint=self.hint, **self.details)
