"""Measures of how close a training item is to a benchmark problem (phi-1 Section 5).

n-gram overlap
    Text is lower-cased and split into words and single punctuation characters (the regex
    ``\\w+|[^\\w\\s]``), so code, comments and docstrings all count and layout does not. An
    n-gram is n consecutive tokens, hashed to 64 bits with blake2b (deterministic across
    processes). The overlap of a training item with a benchmark item is
    |G_train ∩ G_bench| / |G_bench|, the share of the benchmark item's distinct n-grams found
    in the training item (0 when the benchmark item has fewer than n tokens). The paper uses
    n = 13.

AST match rate
    Code is parsed with `ast`; docstrings (a leading string-constant expression statement of a
    module, function or class body) are removed and the tree is written as the pre-order
    sequence of node type names, without expression contexts (Load/Store/Del). Identifiers are
    abstracted because they are string fields, not nodes (`Name`, `arg`, `FunctionDef`,
    `Attribute` carry no name), and constants become `Constant:<kind>` with kind one of
    num/str/bytes/True/False/None/Ellipsis. Renaming, reformatting and rewording comments or
    docstrings therefore leave the sequence unchanged. For sequences a, b the rate is
    1 - lev(a, b) / max(|a|, |b|) (1 for two empty sequences), lev being the unit-cost
    Levenshtein distance. The paper flags pairs with rate >= tau for tau in {0.95, 0.9, 0.85, 0.8}.

Embedding distance
    The L2 distance between unit-normalised embedding vectors, d^2 = 2 - 2 cos, in [0, 2] (the
    paper embeds with CodeGen-350M).
"""

from __future__ import annotations

import ast
import hashlib
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numba
import numpy as np

_TOKEN = re.compile(r"\w+|[^\w\s]")


# ----------------------------------------------------------------------------- n-gram overlap


def normalized_tokens(text: str) -> list[str]:
    """The lower-cased words and punctuation characters of `text`."""
    return _TOKEN.findall(text.lower())


def _hash_ngram(gram: Iterable[str]) -> int:
    """64-bit blake2b of the tokens joined by a space (which no token contains)."""
    data = " ".join(gram).encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


def ngram_set(tokens: Sequence[str], n: int = 13) -> set[int]:
    """The 64-bit hashes of the distinct n-grams of `tokens` (empty if fewer than n tokens)."""
    return {_hash_ngram(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


def ngram_overlap(train_tokens: Sequence[str], bench_ngrams: set[int], n: int = 13) -> float:
    """Share of the benchmark item's n-grams that occur in the training item."""
    if not bench_ngrams:
        return 0.0
    return len(ngram_set(train_tokens, n) & bench_ngrams) / len(bench_ngrams)


class NgramIndex:
    """Maps each n-gram of the benchmark items to the indices of the items containing it."""

    def __init__(self, benchmark_texts: Sequence[str], n: int = 13):
        self.n = n
        self.sizes: list[int] = []
        self._items: dict[int, list[int]] = defaultdict(list)
        for j, text in enumerate(benchmark_texts):
            grams = ngram_set(normalized_tokens(text), n)
            self.sizes.append(len(grams))
            for g in grams:
                self._items[g].append(j)

    def matches(self, text: str) -> dict[int, float]:
        """n-gram overlap with every benchmark item sharing at least one n-gram with `text`."""
        hits: Counter[int] = Counter()
        for g in ngram_set(normalized_tokens(text), self.n):
            hits.update(self._items.get(g, ()))
        return {j: count / self.sizes[j] for j, count in hits.items()}


# ----------------------------------------------------------------------------- AST match rate

_CONSTANT_KINDS = ("num", "str", "bytes", "True", "False", "None", "Ellipsis")


def _node_type_names() -> set[str]:
    names, stack = set(), [ast.AST]
    while stack:
        cls = stack.pop()
        names.add(cls.__name__)
        stack.extend(cls.__subclasses__())
    return names


# A fixed numbering of node types, the same in every process, so that workers can encode.
NODE_IDS = {name: i for i, name in enumerate(sorted(_node_type_names() | {f"Constant:{k}" for k in _CONSTANT_KINDS}))}


def _constant_kind(value: object) -> str:
    if isinstance(value, bool) or value is None or value is Ellipsis:
        return repr(value)
    if isinstance(value, (int, float, complex)):
        return "num"
    return type(value).__name__  # str, bytes


def is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _preorder(node: ast.AST, out: list[str]) -> None:
    if isinstance(node, ast.Constant):
        out.append(f"Constant:{_constant_kind(node.value)}")
        return
    out.append(type(node).__name__)
    children = list(ast.iter_child_nodes(node))
    if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        if node.body and is_docstring(node.body[0]):
            children.remove(node.body[0])
    for child in children:
        if not isinstance(child, ast.expr_context):
            _preorder(child, out)


def tree_sequence(tree: ast.AST) -> list[str]:
    """Pre-order node type names of a parsed tree (see the module docstring)."""
    out: list[str] = []
    _preorder(tree, out)
    return out


def normalized_ast_sequence(code: str) -> list[str] | None:
    """Pre-order node type names of `code`'s AST; None if it does not parse."""
    try:
        return tree_sequence(ast.parse(code))
    except (SyntaxError, ValueError):  # ValueError: null bytes in the source
        return None


def encode(seq: Sequence[str]) -> np.ndarray:
    """A node type sequence as int32 ids (NODE_IDS)."""
    return np.fromiter((NODE_IDS[s] for s in seq), dtype=np.int32, count=len(seq))


@numba.njit(cache=True, nogil=True)
def _levenshtein(a, b, max_dist):
    """Unit-cost edit distance of two int32 arrays; any value > max_dist once it must exceed it.

    Every alignment path crosses each DP row, so once a whole row exceeds max_dist the
    final distance does too and the loop stops early."""
    if a.shape[0] < b.shape[0]:
        a, b = b, a
    m = b.shape[0]
    prev = np.arange(m + 1, dtype=np.int32)
    cur = np.empty(m + 1, dtype=np.int32)
    for i in range(a.shape[0]):
        cur[0] = i + 1
        row_min = cur[0]
        ai = a[i]
        for j in range(m):
            v = prev[j] + (ai != b[j])
            if prev[j + 1] + 1 < v:
                v = prev[j + 1] + 1
            if cur[j] + 1 < v:
                v = cur[j] + 1
            cur[j + 1] = v
            if v < row_min:
                row_min = v
        if row_min > max_dist:
            return max_dist + 1
        prev, cur = cur, prev
    return prev[m]


def rate_of_arrays(a: np.ndarray, b: np.ndarray) -> float:
    longest = max(a.shape[0], b.shape[0])
    return 1.0 if longest == 0 else 1.0 - _levenshtein(a, b, longest) / longest


def ast_match_rate(a_seq: Sequence[str], b_seq: Sequence[str]) -> float:
    """1 - Levenshtein(a, b) / max(|a|, |b|), in [0, 1], for sequences of any strings."""
    ids: dict[str, int] = {}
    a, b = ([ids.setdefault(s, len(ids)) for s in seq] for seq in (a_seq, b_seq))
    return rate_of_arrays(np.array(a, dtype=np.int32), np.array(b, dtype=np.int32))


# ------------------------------------------------------------- all pairs above tau, at scale
#
# Two exact filters skip most pairs before the edit distance. Both rest on one lower bound.
# Let A, B be the multisets of node types of a and b. An edit operation removes at most one
# element from the current multiset (deletion, substitution) and adds at most one (insertion,
# substitution), so it lowers |X \ B| by at most 1 (adding elements never lowers it). Going
# from A to B takes |X \ B| from |A \ B| to 0, hence lev(a, b) >= |A \ B|, and by symmetry
# >= |B \ A|. With |A \ B| = |a| - |A ∩ B|:
#     lev(a, b) >= max(|a|, |b|) - |A ∩ B|,  so  rate(a, b) <= |A ∩ B| / max(|a|, |b|).
# Since |A ∩ B| <= min(|a|, |b|), this implies the length bound rate <= min/max, which is
# applied first (benchmark items sorted by length, a contiguous window per training item).
# Neither filter can drop a pair whose rate reaches tau, and the edit distance itself stops
# as soon as it must exceed (1 - tau) * max(|a|, |b|).


@numba.njit(cache=True, nogil=True)
def _match_chunk(train_flat, train_ptr, lo, hi, bench_flat, bench_ptr, bench_counts, tau, out_pairs, out_rates):
    """Pairs (i, j), bench j in [lo[i], hi[i]), with rate >= tau; returns (matches, candidates)."""
    n_types = bench_counts.shape[1]
    counts = np.zeros(n_types, dtype=np.int64)
    types = np.empty(n_types, dtype=np.int64)
    found = 0
    candidates = 0
    for i in range(train_ptr.shape[0] - 1):
        a = train_flat[train_ptr[i] : train_ptr[i + 1]]
        n_distinct = 0
        for t in a:
            if counts[t] == 0:
                types[n_distinct] = t
                n_distinct += 1
            counts[t] += 1
        for j in range(lo[i], hi[i]):
            b = bench_flat[bench_ptr[j] : bench_ptr[j + 1]]
            longest = max(a.shape[0], b.shape[0])
            inter = 0
            for p in range(n_distinct):
                inter += min(counts[types[p]], bench_counts[j, types[p]])
            if inter < tau * longest - 1e-9:
                continue
            candidates += 1
            max_dist = int(math.floor((1.0 - tau) * longest + 1e-9))
            dist = _levenshtein(a, b, max_dist)
            if dist <= max_dist:
                out_pairs[found, 0] = i
                out_pairs[found, 1] = j
                out_rates[found] = 1.0 - dist / longest if longest > 0 else 1.0
                found += 1
        for p in range(n_distinct):
            counts[types[p]] = 0
    return found, candidates


def _flatten(seqs: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    ptr = np.zeros(len(seqs) + 1, dtype=np.int64)
    np.cumsum([len(s) for s in seqs], out=ptr[1:])
    flat = np.concatenate([*seqs, np.empty(0, np.int32)]).astype(np.int32, copy=False)
    return flat, ptr


@dataclass
class AstMatches:
    """Every (training, benchmark) pair with AST match rate >= tau."""

    train: np.ndarray  # int64 training indices
    bench: np.ndarray  # int64 benchmark indices
    rates: np.ndarray  # float64
    candidate_pairs: int  # pairs that passed the length and bag filters
    total_pairs: int  # parseable training items x parseable benchmark items


class AstIndex:
    """The benchmark side of AST matching: encoded sequences sorted by length, with their
    node type counts. `None` stands for a benchmark item that does not parse."""

    def __init__(self, bench: Sequence[np.ndarray | None]):
        self.size = len(bench)
        ids = [j for j, s in enumerate(bench) if s is not None]
        order = sorted(ids, key=lambda j: len(bench[j]))
        self.original = np.array(order, dtype=np.int64)
        self.lengths = np.array([len(bench[j]) for j in order], dtype=np.int64)
        self.flat, self.ptr = _flatten([bench[j] for j in order])
        self.counts = np.zeros((len(order), len(NODE_IDS)), dtype=np.int64)
        for row, j in zip(self.counts, order):
            np.add.at(row, bench[j], 1)
        self.by_original = {int(j): k for k, j in enumerate(order)}

    def match(self, train: Sequence[np.ndarray | None], tau: float, workers: int = 1, chunk: int = 2048) -> AstMatches:
        """All pairs with rate >= tau, the training items in chunks on `workers` threads."""
        train_idx = np.array([i for i, s in enumerate(train) if s is not None], dtype=np.int64)
        chunks = [train_idx[s : s + chunk] for s in range(0, len(train_idx), chunk)]
        with ThreadPoolExecutor(max(1, workers)) as pool:
            results = list(pool.map(lambda block: self._match_block(train, block, tau), chunks))
        pairs = [r[0] for r in results] or [np.empty((0, 2), np.int64)]
        rates = [r[1] for r in results] or [np.empty(0)]
        pairs = np.concatenate(pairs)
        return AstMatches(train=pairs[:, 0], bench=pairs[:, 1], rates=np.concatenate(rates),
                          candidate_pairs=sum(r[2] for r in results), total_pairs=len(train_idx) * len(self.original))

    def _match_block(self, train, block: np.ndarray, tau: float):
        flat, ptr = _flatten([train[i] for i in block])
        lengths = np.diff(ptr)
        # Length bound: tau * max(la, lb) <= min(la, lb)  <=>  tau * la <= lb <= la / tau.
        lo = np.searchsorted(self.lengths, tau * lengths - 1e-9, side="left")
        hi = np.searchsorted(self.lengths, lengths / max(tau, 1e-12) + 1e-6, side="right")
        size = int((hi - lo).sum())
        out_pairs, out_rates = np.empty((size, 2), np.int64), np.empty(size, np.float64)
        found, candidates = _match_chunk(flat, ptr, lo, hi, self.flat, self.ptr, self.counts, tau, out_pairs, out_rates)
        pairs = out_pairs[:found].copy()
        pairs[:, 0] = block[pairs[:, 0]]
        pairs[:, 1] = self.original[pairs[:, 1]]
        return pairs, out_rates[:found].copy(), candidates

    def rate(self, seq: np.ndarray, bench_index: int) -> float:
        """The exact rate of one sequence against benchmark item `bench_index` (NaN if it does not parse)."""
        k = self.by_original.get(bench_index)
        return math.nan if k is None else rate_of_arrays(seq, self.flat[self.ptr[k] : self.ptr[k + 1]])


def ast_matches(train_codes: Sequence[str], bench_codes: Sequence[str], tau: float, workers: int = 1) -> AstMatches:
    """All (training, benchmark) index pairs of code with AST match rate >= tau (code that does
    not parse matches nothing)."""
    def encoded(code):
        seq = normalized_ast_sequence(code)
        return None if seq is None else encode(seq)

    return AstIndex([encoded(c) for c in bench_codes]).match([encoded(c) for c in train_codes], tau, workers)


# ----------------------------------------------------------------------------- embeddings


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (a zero row stays zero: distance sqrt(2) to all)."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1)


@dataclass
class EmbeddingNeighbours:
    close: np.ndarray  # (m, 2) int64 (training row, benchmark row) with distance <= threshold
    close_distances: np.ndarray  # (m,) float32
    nearest: np.ndarray  # (benchmark rows, k) int64: each benchmark row's nearest training rows
    nearest_distances: np.ndarray  # (benchmark rows, k) float32, nearest first


def embedding_neighbours(train: np.ndarray, bench: np.ndarray, threshold: float, k: int,
                         block: int = 4096) -> EmbeddingNeighbours:
    """The L2 distances of unit-normalised rows: every pair within `threshold`, and for each
    benchmark row its k nearest training rows. Memory is O(block x len(bench)) beyond the output."""
    t, b = unit_rows(train), unit_rows(bench)
    k = min(k, t.shape[0])
    close, close_d = [], []
    best_d = np.full((b.shape[0], 0), np.inf, np.float32)
    best_i = np.empty((b.shape[0], 0), np.int64)
    for start in range(0, t.shape[0], block):
        d = np.sqrt(np.maximum(2.0 - 2.0 * (b @ t[start : start + block].T), 0.0))  # (bench, block)
        rows, cols = np.nonzero(d <= threshold)
        close.append(np.stack([cols + start, rows], axis=1))
        close_d.append(d[rows, cols])
        cand_d = np.concatenate([best_d, d], axis=1)
        cand_i = np.concatenate([best_i, np.broadcast_to(np.arange(start, start + d.shape[1]), d.shape)], axis=1)
        keep = np.argsort(cand_d, axis=1, kind="stable")[:, :k]
        best_d, best_i = np.take_along_axis(cand_d, keep, 1), np.take_along_axis(cand_i, keep, 1)
    close_pairs = np.concatenate(close).astype(np.int64) if close else np.empty((0, 2), np.int64)
    close_dist = np.concatenate(close_d).astype(np.float32) if close_d else np.empty(0, np.float32)
    return EmbeddingNeighbours(close_pairs, close_dist, best_i, best_d.astype(np.float32))
