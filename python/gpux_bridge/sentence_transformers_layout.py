"""Read a sentence-transformers folder (modules.json, 1_Pooling/config.json) without the library."""

import json
import os

from .protocol import BridgeError

# module types by class name: sentence-transformers has moved them between packages across versions
POOLING, NORMALIZE, TRANSFORMER = "Pooling", "Normalize", "Transformer"


def _class_name(module):
    return str(module.get("type", "")).rsplit(".", 1)[-1]


OLD_KEYS = {"pooling_mode_cls_token": "cls", "pooling_mode_mean_tokens": "mean", "pooling_mode_max_tokens": "max"}
ALIASES = {"cls": "cls", "mean": "mean", "max": "max", "cls_token": "cls", "mean_tokens": "mean", "max_tokens": "max"}


def _pooling_modes(config):
    """(supported modes, other modes) from either layout: "pooling_mode": "mean" or pooling_mode_x_tokens flags."""
    named = config.get("pooling_mode")
    if named is not None:
        names = named if isinstance(named, list) else [named]
        return [ALIASES[n] for n in names if n in ALIASES], [n for n in names if n not in ALIASES]
    modes = [mode for key, mode in OLD_KEYS.items() if config.get(key)]
    others = [k for k, v in config.items() if k.startswith("pooling_mode_") and v and k not in OLD_KEYS]
    return modes, others


def read_pooling(model_dir):
    """(mode, normalize) when the folder is a sentence-transformer, else None."""
    path = os.path.join(model_dir, "modules.json")
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        modules = json.load(f)
    types = [_class_name(m) for m in modules]
    unknown = [m.get("type") for m, t in zip(modules, types) if t not in (POOLING, NORMALIZE, TRANSFORMER)]
    if unknown:
        raise BridgeError(
            "unsupported",
            f"This sentence-transformer has modules gpux cannot export yet: {', '.join(map(str, unknown))}.",
            hint="Export the transformer alone with --task feature-extraction and pool outside the model.",
        )
    pooling = next((m for m in modules if _class_name(m) == POOLING), None)
    if pooling is None:
        return None
    config_path = os.path.join(model_dir, pooling.get("path", "1_Pooling"), "config.json")
    with open(config_path, encoding="utf-8") as f:
        config = json.load(f)
    modes, others = _pooling_modes(config)
    if len(modes) != 1 or others:
        raise BridgeError(
            "unsupported",
            f"Pooling {config} is not one of cls, mean or max.",
            hint="Export with --task feature-extraction and pool the last_hidden_state yourself.",
        )
    return modes[0], NORMALIZE in types
