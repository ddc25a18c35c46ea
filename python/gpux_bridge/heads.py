"""Task heads: the transformers class to load (named by the request), and a wrapper whose inputs and outputs carry the names
Optimum and transformers.js use (input_ids, attention_mask, token_type_ids, pixel_values → logits …)."""

import inspect

import torch

from .protocol import BridgeError


def auto_class(head):
    """The transformers class named by the request's head (gpux's task table, src/tasks.ts, decides it)."""
    import transformers

    name = head["auto_class"]
    if not hasattr(transformers, name):
        raise BridgeError(
            "unsupported",
            f"transformers {transformers.__version__} has no {name}.",
            hint="Install the transformers version gpux doctor names.",
        )
    return getattr(transformers, name)


def text_input_names(model):
    """input_ids and attention_mask, plus token_type_ids when the model has more than one token type."""
    parameters = inspect.signature(model.forward).parameters
    names = ["input_ids"]
    if "attention_mask" in parameters:
        names.append("attention_mask")
    if "token_type_ids" in parameters and getattr(model.config, "type_vocab_size", 0) > 1:
        names.append("token_type_ids")
    return names


class Pooling(torch.nn.Module):
    """Sentence-transformers pooling (mean, cls or max over tokens, optionally L2-normalised)."""

    def __init__(self, mode, normalize):
        super().__init__()
        self.mode = mode
        self.normalize = normalize

    def forward(self, hidden, attention_mask):
        if self.mode == "cls":
            pooled = hidden[:, 0]
        elif self.mode == "max":
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask + (1.0 - mask) * torch.finfo(hidden.dtype).min).max(dim=1).values
        else:
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        if self.normalize:
            pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
        return pooled


class ExportWrapper(torch.nn.Module):
    """Positional inputs in a fixed order, outputs as a tuple in a fixed order: what the tracer needs."""

    def __init__(self, model, input_names, output_names, pooling=None):
        super().__init__()
        self.model = model
        self.input_names = input_names
        self.output_names = output_names
        self.pooling = pooling

    def forward(self, *inputs):
        kwargs = dict(zip(self.input_names, inputs))
        out = self.model(**kwargs, return_dict=True)
        values = []
        for name in self.output_names:
            if name == "sentence_embedding":
                values.append(self.pooling(out["last_hidden_state"], kwargs["attention_mask"]))
            else:
                values.append(out[name])
        return tuple(values)


def output_axes(head, pooling):
    """Output name -> {axis index: name}, in graph order (JSON keys arrive as strings)."""
    axes = {name: {int(axis): label for axis, label in dims.items()} for name, dims in head["outputs"].items()}
    if pooling is not None:
        axes["sentence_embedding"] = {0: "batch_size"}
    return axes
