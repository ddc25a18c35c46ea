"""Export a transformers causal LM with its KV cache in the layout the Hub's ONNX repos use (Optimum,
onnx-community): inputs input_ids, attention_mask, position_ids, past_key_values.{i}.key|value
[batch, kv_heads, past, head_dim]; outputs logits, present.{i}.key|value [batch, kv_heads, past + new, head_dim].

One graph serves the prefill (past of length 0) and every decode step. It is traced by the TorchScript exporter
with eager attention and a NON-EMPTY past: traced with an empty one, the past length can be folded into
constants. The dynamo exporter needs named dims and batch >= 2 to trace the same thing with this torch.
"""

import inspect
import warnings

import torch

# Dim names as Optimum writes them, so tools that read the graph's metadata recognise them.
BATCH, SEQUENCE, PAST, TOTAL = "batch_size", "sequence_length", "past_sequence_length", "total_sequence_length"
# Shapes the graph is traced with: two rows (one left-padded), three tokens in the past, four new ones.
TRACE_BATCH, TRACE_PAST, TRACE_NEW = 2, 3, 4


def cache_shape(config):
    """(layers, kv_heads, head_dim) of the model's KV cache, from its config."""
    text = config.get_text_config(decoder=True)
    heads = text.num_attention_heads
    kv_heads = getattr(text, "num_key_value_heads", None) or heads
    head_dim = getattr(text, "head_dim", None) or text.hidden_size // heads
    return text.num_hidden_layers, kv_heads, head_dim


def takes_position_ids(model):
    return "position_ids" in inspect.signature(model.forward).parameters


def io_names(model):
    """(input names, output names) of the exported graph."""
    layers = cache_shape(model.config)[0]
    inputs = ["input_ids", "attention_mask"] + (["position_ids"] if takes_position_ids(model) else [])
    outputs = ["logits"]
    for i in range(layers):
        inputs += [f"past_key_values.{i}.key", f"past_key_values.{i}.value"]
        outputs += [f"present.{i}.key", f"present.{i}.value"]
    return inputs, outputs


def dynamic_axes(input_names, output_names):
    axes = {}
    for name in input_names + output_names:
        if name.startswith("past_key_values."):
            axes[name] = {0: BATCH, 2: PAST}
        elif name.startswith("present."):
            axes[name] = {0: BATCH, 2: TOTAL}
        elif name == "attention_mask":
            axes[name] = {0: BATCH, 1: TOTAL}
        else:  # input_ids, position_ids, logits
            axes[name] = {0: BATCH, 1: SEQUENCE}
    return axes


class CausalLMWithCache(torch.nn.Module):
    """Flat tensors in and out, as the tracer needs: rebuilds transformers' DynamicCache from the past inputs
    and flattens the cache the model returns into present outputs."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.layers = cache_shape(model.config)[0]
        self.with_positions = takes_position_ids(model)

    def forward(self, input_ids, attention_mask, *rest):
        from transformers import DynamicCache

        position_ids, past = (rest[0], rest[1:]) if self.with_positions else (None, rest)
        # without a config every layer is a full DynamicLayer: present = past + new, never cropped to a window
        cache = DynamicCache(ddp_cache_data=[(past[2 * i], past[2 * i + 1]) for i in range(self.layers)])
        kwargs = {"position_ids": position_ids} if self.with_positions else {}
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, past_key_values=cache,
                         use_cache=True, return_dict=True, **kwargs)
        present = []
        for layer in out.past_key_values.layers:
            present += [layer.keys, layer.values]
        return (out.logits, *present)


def positions(attention_mask, new_tokens):
    """position_ids for the last `new_tokens` positions: the count of real tokens before each, as Optimum's
    and transformers.js's generation loops compute them (left padding starts at 0 where the text starts)."""
    ids = attention_mask.long().cumsum(-1) - 1
    ids = ids.masked_fill(attention_mask == 0, 1)
    return ids[:, -new_tokens:]


def empty_past(config, batch, length=0, generator=None, dtype=torch.float32):
    layers, kv_heads, head_dim = cache_shape(config)
    shape = (batch, kv_heads, length, head_dim)
    make = (lambda: torch.randn(shape, generator=generator, dtype=dtype)) if length else (
        lambda: torch.zeros(shape, dtype=dtype))
    return [make() for _ in range(2 * layers)]


def feeds(wrapper, input_ids, attention_mask, past):
    """The wrapper's positional inputs for new tokens `input_ids` after `past` (mask covers past + new)."""
    inputs = [input_ids, attention_mask]
    if wrapper.with_positions:
        inputs.append(positions(attention_mask, input_ids.shape[1]))
    return inputs + list(past)


def trace_inputs(wrapper, seed=0):
    config = wrapper.model.config
    generator = torch.Generator().manual_seed(seed)
    vocab = config.get_text_config(decoder=True).vocab_size
    ids = torch.randint(0, vocab, (TRACE_BATCH, TRACE_NEW), generator=generator)
    mask = torch.ones((TRACE_BATCH, TRACE_PAST + TRACE_NEW), dtype=torch.int64)
    mask[-1, :2] = 0  # a left-padded row, so the mask is used as a tensor, not assumed all ones
    return feeds(wrapper, ids, mask, empty_past(config, TRACE_BATCH, TRACE_PAST, generator))


def export_causal_lm(model, out_path, opset, fast_exporter=None):
    """Trace `model` (eager attention, eval mode) to out_path with the TorchScript exporter; returns the
    wrapper and the graph's (input names, output names). `fast_exporter`, when given, is a context manager
    the export runs inside (pytorch_export's shape-inference shortcut)."""
    import contextlib

    wrapper = CausalLMWithCache(model).eval()
    input_names, output_names = io_names(model)
    inputs = tuple(trace_inputs(wrapper))
    with (fast_exporter or contextlib.nullcontext)(), warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapper,
            inputs,
            out_path,
            input_names=input_names,
            output_names=output_names,
            dynamic_axes=dynamic_axes(input_names, output_names),
            opset_version=opset,
            dynamo=False,
        )
    wrapper.eval()
    return wrapper, input_names, output_names
