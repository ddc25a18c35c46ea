"""Load a transformers checkpoint safely (safetensors first, .bin only with weights_only) and export it
with the TorchScript-based exporter, whose tracing is several times faster than the dynamo one here."""

import contextlib
import glob
import os
import warnings

from .external_data import externalize_weights
from .protocol import BridgeError, progress
from .heads import ExportWrapper, Pooling, auto_class, output_axes, text_input_names
from .sentence_transformers_layout import read_pooling

IGNORED_MISSING = ("position_ids", "num_batches_tracked")


def _has_safetensors(model_dir):
    return bool(glob.glob(os.path.join(model_dir, "*.safetensors")))


def load_model(model_dir, task, head):
    """The model with its task head; a head the checkpoint lacks is an error, never random weights."""
    import torch

    cls = auto_class(head)
    progress("load", f"loading {cls.__name__} from {os.path.basename(model_dir) or model_dir}")
    safetensors = _has_safetensors(model_dir)
    try:
        model, info = cls.from_pretrained(
            model_dir,
            use_safetensors=safetensors,
            weights_only=True,
            output_loading_info=True,
            dtype=torch.float32,
        )
    except (OSError, ValueError, RuntimeError, KeyError, EnvironmentError) as error:
        raise BridgeError(
            "bad_checkpoint",
            f"The checkpoint could not be loaded as {cls.__name__}: {first_line(error)}",
            hint="The weights may be truncated or not a transformers checkpoint; pull again with --force.",
        ) from error
    except Exception as error:
        if type(error).__name__ == "SafetensorError":
            raise BridgeError(
                "bad_checkpoint",
                f"The safetensors file is damaged: {first_line(error)}",
                hint="Pull the model again with --force.",
            ) from error
        raise
    missing = [k for k in info.get("missing_keys", []) if not k.endswith(IGNORED_MISSING)]
    if missing:
        raise BridgeError(
            "bad_checkpoint",
            f"The checkpoint has no weights for {', '.join(sorted(missing)[:4])}"
            f"{' …' if len(missing) > 4 else ''}: it does not contain a trained {task} head.",
            hint="Pass the --task the checkpoint was trained for (e.g. --task feature-extraction).",
        )
    return model.eval()


def first_line(error):
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


def example_inputs(model, task, batch, length, seed):
    """Inputs for tracing and validation: random ids, a padded last row, alternating token types."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    config = model.config
    if task == "image-classification":
        size = config.image_size
        size = (size, size) if isinstance(size, int) else tuple(size)
        pixels = torch.randn((batch, config.num_channels, *size), generator=generator)
        return ["pixel_values"], [pixels]
    names = text_input_names(model)
    vocab = getattr(config, "vocab_size", 100)
    ids = torch.randint(0, vocab, (batch, length), generator=generator)
    mask = torch.ones((batch, length), dtype=torch.int64)
    if batch > 1 and length > 2:
        mask[-1, length // 2 :] = 0
    values = {"input_ids": ids, "attention_mask": mask}
    values["token_type_ids"] = torch.zeros((batch, length), dtype=torch.int64)
    values["token_type_ids"][:, length // 2 :] = 1
    return names, [values[n] for n in names]


@contextlib.contextmanager
def _without_whole_graph_shape_inference():
    """The TorchScript exporter runs ONNX shape inference over the whole graph twice, weights included: on a
    DistilBERT-base that is ~10 of its ~17 s. Per-node inference (what the symbolic functions need) still runs;
    only the whole-graph passes, which add intermediate value_info, are skipped. The result is validated like
    any export, and `export` falls back to the full exporter if this one fails."""
    import torch

    real = torch._C._jit_pass_onnx_graph_shape_type_inference
    torch._C._jit_pass_onnx_graph_shape_type_inference = lambda *args, **kwargs: None
    try:
        yield
    finally:
        torch._C._jit_pass_onnx_graph_shape_type_inference = real


def export(model_dir, out_path, task, head, opset, fast=True, model=None):
    """Export to out_path with the weights in `<out_path>_data` beside it (see external_data.py); returns
    (wrapper, input names, output names) for validation. `fast` skips the whole-graph shape inference passes
    (see above); if that export raises, the full exporter runs instead."""
    import torch

    model = model if model is not None else load_model(model_dir, task, head)
    pooling = None
    if task == "feature-extraction":
        layout = read_pooling(model_dir)
        if layout is not None:
            pooling = Pooling(*layout)
    axes = output_axes(head, pooling)
    output_names = list(axes)
    input_names, inputs = example_inputs(model, task, 2, 8, seed=0)
    wrapper = ExportWrapper(model, input_names, output_names, pooling).eval()
    input_axes = {name: {0: "batch_size"} if name == "pixel_values" else {0: "batch_size", 1: "sequence_length"}
                  for name in input_names}
    progress("export", f"exporting {task} with opset {opset}{'' if fast else ' (full shape inference)'}")

    def run_exporter():
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                wrapper,
                tuple(inputs),
                out_path,
                input_names=input_names,
                output_names=output_names,
                dynamic_axes={**input_axes, **axes},
                opset_version=opset,
                dynamo=False,
            )

    if fast:
        try:
            with _without_whole_graph_shape_inference():
                run_exporter()
        except Exception:  # noqa: BLE001 — any failure of the fast path is retried the standard way
            progress("export", "fast export failed; exporting again with full shape inference")
            run_exporter()
    else:
        run_exporter()
    # the exporter puts the module back into the mode it found it in; make sure that is eval
    wrapper.eval()
    # rewrites any data file an earlier export here left, and removes it when nothing moves
    externalize_weights(out_path, os.path.basename(out_path) + "_data")
    return wrapper, input_names, output_names
