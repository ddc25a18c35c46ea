"""A MiniLM-L6-sized BERT text classifier (6 layers, hidden 384, random weights) exported to ONNX, for
bench/pipeline.ts. Usage: python3 make_small_bert.py OUT_DIR TOKENIZER_DIR"""

import os
import shutil
import sys

import torch
from transformers import BertConfig, BertForSequenceClassification

out, tokenizer_dir = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)
config = BertConfig(
    vocab_size=30522, hidden_size=384, num_hidden_layers=6, num_attention_heads=12, intermediate_size=1536,
    max_position_embeddings=512, num_labels=2, attn_implementation="eager",
)
model = BertForSequenceClassification(config).eval()
model.config.save_pretrained(out)
for name in ("tokenizer.json", "tokenizer_config.json"):
    shutil.copyfile(os.path.join(tokenizer_dir, name), os.path.join(out, name))


class Positional(torch.nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).logits


names = ["input_ids", "attention_mask", "token_type_ids"]
dummy = tuple(torch.ones(1, 8, dtype=torch.long) for _ in names)
with torch.no_grad():
    torch.onnx.export(
        Positional(model).eval(), dummy, os.path.join(out, "model.onnx"), input_names=names, output_names=["logits"],
        dynamic_axes={**{n: {0: "batch", 1: "sequence"} for n in names}, "logits": {0: "batch"}},
        opset_version=17, dynamo=False,
    )
with open(os.path.join(out, "gpux.yml"), "w") as f:
    f.write("name: small-bert\ntask: text-classification\nmodel:\n  source: model.onnx\npreprocessing:\n  max_length: 128\n")
print("small bert written to", out)
