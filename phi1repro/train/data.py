"""Training sequences from token shards, and the order they are seen in.

A shard is `{stem}.bin`, flat little-endian uint16 token ids (each document followed by EOS),
with its index `{stem}.json` ({"tokens", "documents", "dtype", "eos_id", "vocab_size", ...}).
Each shard is cut into non-overlapping windows of seq_len + 1 tokens (inputs w[:-1], labels
w[1:]); the tail of a shard shorter than a window is left out. Windows are numbered across the
shards in the order given.

The order is a function of (seed, step) alone: sample g = step * global_batch + i is window
permutation(seed, epoch)[g % n] of epoch g // n, over the n windows left for training once a
seeded few are held out for evaluation (split_windows). A run resumed at any step sees exactly the
batches that an uninterrupted run would have, with no loader state to checkpoint.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from ..errors import InputError
from ..tokens.pack import open_tokens, read_index

HELD_OUT_STREAM = 0x68656C64  # a random stream of its own for the held-out windows, apart from the epochs'


class TokenSequences:
    """The windows of seq_len + 1 tokens of a list of shards, memory-mapped."""

    def __init__(self, index_paths: list[str], seq_len: int):
        if not index_paths:
            raise ValueError("no token shards given")
        self.seq_len = seq_len
        self.index = [read_index(p) for p in index_paths]
        for path, meta in zip(index_paths, self.index):
            for key in ("eos_id", "vocab_size"):
                if meta[key] != self.index[0][key]:
                    raise InputError(path, f"{key} {meta[key]} differs from {self.index[0][key]} of {index_paths[0]}")
        self._shards = [open_tokens(p) for p in index_paths]
        counts = [len(tokens) // (seq_len + 1) for tokens in self._shards]
        self._starts = np.cumsum([0] + counts)
        self.eos_id: int = self.index[0]["eos_id"]
        self.vocab_size: int = self.index[0]["vocab_size"]
        self.tokens = sum(len(t) for t in self._shards)

    def __len__(self) -> int:
        return int(self._starts[-1])

    def get(self, indices: np.ndarray) -> torch.Tensor:
        """The windows `indices` as a (len(indices), seq_len + 1) int64 tensor."""
        width = self.seq_len + 1
        out = np.empty((len(indices), width), np.int64)
        shards = np.searchsorted(self._starts, indices, side="right") - 1
        for row, (i, shard) in enumerate(zip(indices, shards)):
            start = (i - self._starts[shard]) * width
            out[row] = self._shards[shard][start : start + width]
        return torch.from_numpy(out)


def split_windows(n: int, held_out: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(training, held-out) window ids: `held_out` windows drawn by `seed`, kept out of every batch to
    measure the loss on the training data's own distribution; the rest, in order, for training."""
    if held_out >= n:
        raise ValueError(f"eval_sequences {held_out} leaves none of the dataset's {n} windows to train on")
    rng = np.random.default_rng(np.random.SeedSequence([seed, HELD_OUT_STREAM]))
    held = np.sort(rng.choice(n, held_out, replace=False))
    return np.setdiff1d(np.arange(n), held), held


@functools.lru_cache(maxsize=2)  # the epoch of a step, and the next one when a batch spans both
def _permutation(n: int, seed: int, epoch: int) -> np.ndarray:
    return np.random.default_rng((seed, epoch)).permutation(n)


def step_indices(n: int, seed: int, step: int, global_batch: int) -> np.ndarray:
    """The window ids of the global batch of `step`, over a dataset of `n` windows."""
    if n < 1:
        raise ValueError("the dataset has no window of seq_len + 1 tokens")
    g = step * global_batch + np.arange(global_batch)
    epochs, positions = np.divmod(g, n)
    out = np.empty(global_batch, np.int64)
    for epoch in np.unique(epochs):
        rows = epochs == epoch
        out[rows] = _permutation(n, seed, int(epoch))[positions[rows]]
    return out
