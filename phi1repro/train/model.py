"""The phi-1 model family: a Hugging Face Phi decoder sized by a small dict.

    size = {"layers": 24, "hidden": 2048, "intermediate": 8192, "heads": 32, "rotary_dim": 32,
            "max_positions": 2048}  # phi-1, 1.3B (1.418B with its 51200-row embeddings)

Rotary embeddings cover `rotary_dim` of each head's dimensions (partial rotary); the MLP is
gelu_new; the LM head is separate from the token embeddings (not tied). The embedding rows are
the tokenizer's vocabulary padded up to a multiple of 64, or size["vocab_size"] when given
(phi-1's released checkpoints have 51200 rows for its 50295 tokens).
"""

from __future__ import annotations

import importlib.util

import torch
from transformers import PhiConfig, PhiForCausalLM

ATTENTIONS = ("sdpa", "flash_attention_2", "eager")
SIZE_KEYS = ("layers", "hidden", "intermediate", "heads", "rotary_dim", "max_positions")
VOCAB_MULTIPLE = 64


def padded_vocab(vocab_size: int) -> int:
    return -(-vocab_size // VOCAB_MULTIPLE) * VOCAB_MULTIPLE


def phi_config(size: dict, vocab_size: int, dropout: float, attention: str = "sdpa",
               bos_token_id: int | None = None, eos_token_id: int | None = None) -> PhiConfig:
    """The PhiConfig of a model of `size` over a tokenizer of `vocab_size` tokens."""
    missing = [k for k in SIZE_KEYS if k not in size]
    if missing:
        raise ValueError(f"model size lacks {', '.join(missing)} (needs {', '.join(SIZE_KEYS)})")
    if attention not in ATTENTIONS:
        raise ValueError(f"attention {attention!r} is not one of {', '.join(ATTENTIONS)}")
    if attention == "flash_attention_2" and importlib.util.find_spec("flash_attn") is None:
        raise ValueError("attention flash_attention_2 needs the flash_attn package, which has no CPU build "
                         "(pip install -e .[gpu] on a CUDA machine), or use attention sdpa")
    hidden, heads = size["hidden"], size["heads"]
    if hidden % heads:
        raise ValueError(f"model size: hidden {hidden} is not a multiple of heads {heads}")
    head_dim = hidden // heads
    if not 0 < size["rotary_dim"] <= head_dim:
        raise ValueError(f"model size: rotary_dim {size['rotary_dim']} must be in 1..{head_dim} (hidden / heads)")
    vocab = size.get("vocab_size") or padded_vocab(vocab_size)
    if vocab < vocab_size:
        raise ValueError(f"model size: vocab_size {vocab} is smaller than the tokenizer's {vocab_size} tokens")
    return PhiConfig(
        vocab_size=vocab,
        hidden_size=hidden,
        intermediate_size=size["intermediate"],
        num_hidden_layers=size["layers"],
        num_attention_heads=heads,
        max_position_embeddings=size["max_positions"],
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0,
                         "partial_rotary_factor": size["rotary_dim"] / head_dim},
        hidden_act="gelu_new",
        layer_norm_eps=1e-5,
        resid_pdrop=dropout,
        embd_pdrop=dropout,
        attention_dropout=dropout,
        tie_word_embeddings=False,
        bos_token_id=bos_token_id,
        eos_token_id=eos_token_id,
        attn_implementation=attention,
    )


def build_model(config: PhiConfig) -> PhiForCausalLM:
    """A freshly initialised model (seed torch first for a reproducible one)."""
    return PhiForCausalLM(config)


def count_parameters(config: PhiConfig) -> dict:
    """Parameter counts, without allocating the weights. non_embedding leaves out the token
    embeddings (a lookup, no FLOPs) but keeps the LM head (a matmul)."""
    with torch.device("meta"):
        model = PhiForCausalLM(config)
    total = sum(p.numel() for p in model.parameters())
    return {"total": total, "non_embedding": total - model.get_input_embeddings().weight.numel()}


def flops_per_token(config: PhiConfig, seq_len: int) -> float:
    """Training FLOPs per token (PaLM appendix B, as in nanoGPT): 6N for the weight matmuls forward
    and backward, plus 12 * layers * hidden * seq_len for attention scores and values."""
    n = count_parameters(config)["non_embedding"]
    return 6.0 * n + 12.0 * config.num_hidden_layers * config.hidden_size * seq_len
