"""Training: the phi-1 model family (model.py), token sequences (data.py) and the DeepSpeed loop (trainer.py)."""
