"""Read a sentence-transformers folder (modules.json, 1_Pooling/config.json) without the library."""

import json
import os

from .protocol import BridgeError

POOLING = "sentence_transformers.models.Pooling"
NORMALIZE = "sentence_transformers.models.Normalize"
TRANSFORMER = "sentence_transformers.models.Transformer"


def read_pooling(model_dir):
    """(mode, normalize) when the folder is a sentence-transformer, else None."""
    path = os.path.join(model_dir, "modules.json")
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        modules = json.load(f)
    types = [m.get("type") for m in modules]
    unknown = [t for t in types if t not in (POOLING, NORMALIZE, TRANSFORMER)]
    if unknown:
        raise BridgeError(
            "unsupported",
            f"This sentence-transformer has modules gpux cannot export yet: {', '.join(map(str, unknown))}.",
            hint="Export the transformer alone with --task feature-extraction and pool outside the model.",
        )
    pooling = next((m for m in modules if m.get("type") == POOLING), None)
    if pooling is None:
        return None
    config_path = os.path.join(model_dir, pooling.get("path", "1_Pooling"), "config.json")
    with open(config_path, encoding="utf-8") as f:
        config = json.load(f)
    modes = [
        mode
        for mode, key in (("cls", "pooling_mode_cls_token"), ("mean", "pooling_mode_mean_tokens"),
                          ("max", "pooling_mode_max_tokens"))
        if config.get(key)
    ]
    others = [k for k, v in config.items() if k.startswith("pooling_mode_") and v and not k.endswith(
        ("cls_token", "mean_tokens", "max_tokens"))]
    if len(modes) != 1 or others:
        raise BridgeError(
            "unsupported",
            f"Pooling {config} is not one of cls, mean or max.",
            hint="Export with --task feature-extraction and pool the last_hidden_state yourself.",
        )
    return modes[0], NORMALIZE in types
