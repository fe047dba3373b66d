"""MinHash signatures and LSH band keys for near-duplicate detection.

Shingles follow BigCode's near-dedup: the text is split on every character that is not an
ASCII letter, digit or underscore, and each run of `ngram` consecutive words is one shingle
(a text with fewer words is one shingle).

What makes it fast (benchmarks/minhash.py measures it against datasketch):
- compiled loops (numba) over the UTF-8 bytes: words are hashed as they are scanned (FNV-1a),
  with no Python string per word or per shingle;
- a shingle's hash is a mixed linear combination of its word hashes, and the permutations
  are multiply-shift hashes h_i(x) = (a_i * x mod 2^64) >> 32 with odd a_i: no modulo, and
  the shift is applied to the minima only (it is monotonic);
- the running minima are kept per permutation, never materialising the
  (permutations x shingles) matrix.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numba
import numpy as np

_WORD_BYTES = bytes(c if chr(c).isascii() and (chr(c).isalnum() or c == ord("_")) else 32 for c in range(256))
_IS_WORD_BYTE = np.frombuffer(_WORD_BYTES, dtype=np.uint8) != 32


def words(text: str) -> list[bytes]:
    """The words of `text`: maximal runs of ASCII letters, digits and underscores."""
    return text.encode("utf-8", "surrogatepass").translate(_WORD_BYTES).split()


def shingles(text: str, ngram: int) -> set[bytes]:
    """The shingle set of `text` as byte strings (to compare with other implementations)."""
    w = words(text)
    n = min(ngram, len(w))
    return {b" ".join(w[i : i + n]) for i in range(len(w) - n + 1)} if w else set()


@numba.njit(inline="always")
def _mix64(x):
    """splitmix64's finaliser: spreads a linear combination over all 64 bits."""
    x ^= x >> numba.uint64(30)
    x *= numba.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> numba.uint64(27)
    x *= numba.uint64(0x94D049BB133111EB)
    return x ^ (x >> numba.uint64(31))


@numba.njit(cache=True, nogil=True)
def _word_hashes(data, is_word_byte):
    """FNV-1a hash of every word (maximal run of word bytes) in `data`, mixed to 64 bits."""
    out = np.empty(data.shape[0] // 2 + 1, dtype=np.uint64)
    n, h, in_word = 0, np.uint64(0xCBF29CE484222325), False
    for c in data:
        if is_word_byte[c]:
            h = (h ^ np.uint64(c)) * np.uint64(0x100000001B3)
            in_word = True
        elif in_word:
            out[n] = _mix64(h)
            n, h, in_word = n + 1, np.uint64(0xCBF29CE484222325), False
    if in_word:
        out[n] = _mix64(h)
        n += 1
    return out[:n]


@numba.njit(cache=True, nogil=True)
def _signature(word_hashes, position, perm):
    sig = np.full(perm.shape[0], np.uint64(0xFFFFFFFFFFFFFFFF), dtype=np.uint64)
    m = word_hashes.shape[0]
    n = min(position.shape[0], m)
    for k in range(m - n + 1 if m else 0):
        acc = np.uint64(0)
        for j in range(n):
            acc += word_hashes[k + j] * position[j]
        acc = _mix64(acc)
        for i in range(perm.shape[0]):
            v = perm[i] * acc
            if v < sig[i]:
                sig[i] = v
    return (sig >> np.uint64(32)).astype(np.uint32)


def _odd_uint64(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 2**63, n, dtype=np.uint64) * np.uint64(2) + np.uint64(1)


class MinHasher:
    """Computes `num_perm` 32-bit MinHash values of a text's word n-gram set."""

    def __init__(self, num_perm: int = 256, ngram: int = 5, seed: int = 42):
        rng = np.random.default_rng(seed)
        self.num_perm, self.ngram, self.seed = num_perm, ngram, seed
        self._perm = _odd_uint64(rng, num_perm)
        self._position = _odd_uint64(rng, ngram)

    def signature(self, text: str) -> np.ndarray:
        """The MinHash signature (uint32, one value per permutation); all ones for a text without words."""
        data = np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)
        return _signature(_word_hashes(data, _IS_WORD_BYTE), self._position, self._perm)


def jaccard_estimate(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    return float(np.mean(sig_a == sig_b))


@lru_cache
def optimal_bands(threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5) -> tuple[int, int]:
    """(bands, rows) minimising the weighted false-positive and false-negative areas of the
    LSH S-curve around `threshold` (the rule datasketch and BigCode use)."""
    grid_lo = np.linspace(0.0, threshold, 1001)
    grid_hi = np.linspace(threshold, 1.0, 1001)
    best, best_err = (1, num_perm), math.inf
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            fp = np.trapezoid(1 - (1 - grid_lo**r) ** b, grid_lo)
            fn = np.trapezoid((1 - grid_hi**r) ** b, grid_hi)
            err = fp_weight * fp + fn_weight * fn
            if err < best_err:
                best, best_err = (b, r), err
    return best


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One 64-bit key per band for each signature row: (n, num_perm) uint32 -> (n, bands) uint64.
    Two signatures share a band key exactly when they agree on all `rows` values of that band
    (up to 64-bit collisions)."""
    n = signatures.shape[0]
    sig = signatures[:, : bands * rows].astype(np.uint64).reshape(n, bands, rows)
    weights = _odd_uint64(np.random.default_rng(rows), rows)
    with np.errstate(over="ignore"):
        keys = (sig * weights).sum(axis=2, dtype=np.uint64) + np.arange(bands, dtype=np.uint64)
    return _mix64(keys)

