"""Tokenizers (trained byte-level BPE or pretrained) and token shards packed for training."""
