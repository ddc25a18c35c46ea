"""Task heads: which transformers class to load, and a wrapper whose inputs and outputs carry the names
Optimum and transformers.js use (input_ids, attention_mask, token_type_ids, pixel_values → logits …)."""

import inspect

import torch

from .auto_classes import AUTO_CLASS
from .protocol import BridgeError


# output name -> axes that vary ({index: name}); every output varies along the batch
OUTPUT_AXES = {
    "text-classification": {"logits": {0: "batch_size"}},
    "token-classification": {"logits": {0: "batch_size", 1: "sequence_length"}},
    "question-answering": {
        "start_logits": {0: "batch_size", 1: "sequence_length"},
        "end_logits": {0: "batch_size", 1: "sequence_length"},
    },
    "fill-mask": {"logits": {0: "batch_size", 1: "sequence_length"}},
    "feature-extraction": {"last_hidden_state": {0: "batch_size", 1: "sequence_length"}},
    "image-classification": {"logits": {0: "batch_size"}},
}


def auto_class(task):
    import transformers

    if task not in AUTO_CLASS:
        raise BridgeError(
            "unsupported",
            f"Task '{task}' cannot be exported.",
            hint=f"Supported tasks: {', '.join(AUTO_CLASS)}.",
        )
    return getattr(transformers, AUTO_CLASS[task])


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


def output_axes(task, pooling):
    axes = dict(OUTPUT_AXES[task])
    if pooling is not None:
        axes["sentence_embedding"] = {0: "batch_size"}
    return axes
