"""The transformers auto class that loads each export task's head (TensorFlow ones add a "TF" prefix).
Kept apart from heads.py, which imports torch, so the TensorFlow path can use it too."""

AUTO_CLASS = {
    "text-classification": "AutoModelForSequenceClassification",
    "token-classification": "AutoModelForTokenClassification",
    "question-answering": "AutoModelForQuestionAnswering",
    "fill-mask": "AutoModelForMaskedLM",
    "feature-extraction": "AutoModel",
    "image-classification": "AutoModelForImageClassification",
    "text-generation": "AutoModelForCausalLM",
}
