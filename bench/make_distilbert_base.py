"""A DistilBERT-base-sized repo for bench/convert.ts: the real distilbert-base-uncased configuration with a
2-label classification head, random weights (fixed seed), saved as model.safetensors (~268 MB)."""

import sys

import torch
from transformers import DistilBertConfig, DistilBertForSequenceClassification

torch.manual_seed(0)
config = DistilBertConfig(
    vocab_size=30522, max_position_embeddings=512, sinusoidal_pos_embds=False, n_layers=6, n_heads=12,
    dim=768, hidden_dim=3072, dropout=0.1, attention_dropout=0.1, activation="gelu", initializer_range=0.02,
    qa_dropout=0.1, seq_classif_dropout=0.2, pad_token_id=0, tie_word_embeddings=True,
    id2label={0: "NEGATIVE", 1: "POSITIVE"}, label2id={"NEGATIVE": 0, "POSITIVE": 1},
)
DistilBertForSequenceClassification(config).save_pretrained(sys.argv[1])
