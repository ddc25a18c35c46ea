"""A DistilBERT-base-sized text classifier (random weights, 2 labels) exported to ONNX for bench/serve.ts.

Usage: python3 bench/make-text-classifier.py OUT_DIR
Writes OUT_DIR/model.onnx (inputs input_ids, attention_mask: int64 [batch, sequence]; output logits [batch, 2])
and OUT_DIR/gpux.yml. Same architecture and size as distilbert-base-uncased (6 layers, 768 hidden, 66M params).
"""

import pathlib
import sys

import torch
from transformers import DistilBertConfig, DistilBertForSequenceClassification

out = pathlib.Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
torch.manual_seed(0)
config = DistilBertConfig(vocab_size=30522, dim=768, n_layers=6, n_heads=12, hidden_dim=3072, num_labels=2)
model = DistilBertForSequenceClassification(config).eval()
ids = torch.randint(1000, 2000, (1, 128))
mask = torch.ones_like(ids)
with torch.no_grad():
    torch.onnx.export(
        model,
        (ids, mask),
        str(out / "model.onnx"),
        input_names=["input_ids", "attention_mask"],
        output_names=["logits"],
        dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "sequence"}, "logits": {0: "batch"}},
        opset_version=17,
        dynamo=False,
    )
(out / "gpux.yml").write_text(
    "name: distilbert-bench\nmodel:\n  source: model.onnx\noutputs:\n  logits:\n    labels: [NEGATIVE, POSITIVE]\n"
)
print(out / "model.onnx")
