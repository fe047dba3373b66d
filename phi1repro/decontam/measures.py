"""Measures of how close a training item is to a benchmark problem (phi-1 Section 5).

n-gram overlap
    Code is tokenized with Python's `tokenize` (comments, NL/NEWLINE/INDENT/DEDENT/ENCODING/
    ENDMARKER dropped; names, operators, numbers and strings kept verbatim; code that does not
    tokenize falls back to the regex ``\\w+|[^\\w\\s]``). An n-gram is n consecutive tokens,
    hashed to 64 bits with blake2b (deterministic across processes). The overlap of a training
    item with a benchmark item is |G_train ∩ G_bench| / |G_bench|, the share of the benchmark
    item's distinct n-grams found in the training item (0 when the benchmark item has fewer
    than n tokens). The paper uses n = 13.

AST match rate
    Code is parsed with `ast`; docstrings (a leading string-constant expression statement of a
    module, function or class body) are removed and the tree is written as the pre-order
    sequence of node type names, without expression contexts (Load/Store/Del). Identifiers are
    abstracted because they are string fields, not nodes (`Name`, `arg`, `FunctionDef`,
    `Attribute` carry no name), and constants become `Constant:<kind>` with kind one of
    num/str/bytes/bool/None/Ellipsis. Renaming, reformatting and rewording comments or
    docstrings therefore leave the sequence unchanged. For sequences a, b the rate is
    1 - lev(a, b) / max(|a|, |b|) (1 for two empty sequences), lev being the unit-cost
    Levenshtein distance. The paper flags pairs with rate >= tau for tau in {0.95, 0.9, 0.85, 0.8}.

Embedding distance
    The L2 distance between unit-normalised embedding vectors, d^2 = 2 - 2 cos (the paper
    embeds with CodeGen-350M); for each training vector the k nearest benchmark vectors.
"""

from __future__ import annotations

import ast
import hashlib
import io
import math
import re
import tokenize
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numba
import numpy as np

_SKIPPED_TOKENS = {
    tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
    tokenize.DEDENT, tokenize.ENCODING, tokenize.ENDMARKER,
}
_FALLBACK_TOKEN = re.compile(r"\w+|[^\w\s]")


# ----------------------------------------------------------------------------- n-gram overlap


def normalized_tokens(code: str) -> list[str]:
    """The tokens of `code` without comments and layout tokens (regex fallback if it does not tokenize)."""
    try:
        return [
            t.string
            for t in tokenize.generate_tokens(io.StringIO(code).readline)
            if t.type not in _SKIPPED_TOKENS
        ]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return _FALLBACK_TOKEN.findall(code)


def _hash_ngram(gram: Iterable[str]) -> int:
    """64-bit blake2b of the tokens joined by NUL (which no Python token contains outside a string)."""
    data = "\x00".join(gram).encode("utf-8", "surrogatepass")
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
    """Maps each n-gram of the benchmark items to the ids of the items containing it."""

    def __init__(self, benchmark_items: Mapping[str, str], n: int = 13):
        self.n = n
        self.sizes: dict[str, int] = {}
        self._ids: dict[int, list[str]] = defaultdict(list)
        for bench_id, code in benchmark_items.items():
            grams = ngram_set(normalized_tokens(code), n)
            self.sizes[bench_id] = len(grams)
            for g in grams:
                self._ids[g].append(bench_id)

    def matches(self, code: str) -> dict[str, float]:
        """n-gram overlap with every benchmark item sharing at least one n-gram with `code`."""
        hits: Counter[str] = Counter()
        for g in ngram_set(normalized_tokens(code), self.n):
            hits.update(self._ids.get(g, ()))
        return {bench_id: count / self.sizes[bench_id] for bench_id, count in hits.items()}


# ----------------------------------------------------------------------------- AST match rate


def _constant_kind(value: object) -> str:
    if isinstance(value, bool) or value is None or value is Ellipsis:
        return repr(value)
    if isinstance(value, (int, float, complex)):
        return "num"
    return type(value).__name__  # str, bytes


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _preorder(node: ast.AST, out: list[str]) -> None:
    if isinstance(node, ast.Constant):
        out.append(f"Constant:{_constant_kind(node.value)}")
        return
    out.append(type(node).__name__)
    children = list(ast.iter_child_nodes(node))
    if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        if node.body and _is_docstring(node.body[0]):
            children.remove(node.body[0])
    for child in children:
        if not isinstance(child, ast.expr_context):
            _preorder(child, out)


def normalized_ast_sequence(code: str) -> list[str] | None:
    """Pre-order node type names of `code`'s AST (see the module docstring); None if it does not parse."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):  # ValueError: null bytes in the source
        return None
    out: list[str] = []
    _preorder(tree, out)
    return out


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


class _Vocabulary(dict):
    """Node type name -> small int, assigned on first sight."""

    def encode(self, seq: Sequence[str]) -> np.ndarray:
        return np.fromiter((self.setdefault(s, len(self)) for s in seq), dtype=np.int32, count=len(seq))


def _max_dist(tau: float, longest: int) -> int:
    """The largest edit distance with rate >= tau (up to float rounding) at this length."""
    return math.floor((1.0 - tau) * longest + 1e-9)


def ast_match_rate(a_seq: Sequence[str], b_seq: Sequence[str]) -> float:
    """1 - Levenshtein(a, b) / max(|a|, |b|), in [0, 1]."""
    longest = max(len(a_seq), len(b_seq))
    if longest == 0:
        return 1.0
    vocab = _Vocabulary()
    a, b = vocab.encode(a_seq), vocab.encode(b_seq)
    return 1.0 - _levenshtein(a, b, longest) / longest


# ------------------------------------------------------------- candidate generation at scale
#
# Both filters rest on one lower bound. Let A, B be the multisets of node types of a and b.
# An edit operation removes at most one element from the current multiset (deletion,
# substitution) and adds at most one (insertion, substitution), so it lowers |X \ B| by at
# most 1 (adding elements never lowers it). Going from A to B takes |X \ B| from |A \ B| to 0,
# hence lev(a, b) >= |A \ B|, and by symmetry >= |B \ A|. With |A \ B| = |a| - |A ∩ B|:
#     lev(a, b) >= max(|a|, |b|) - |A ∩ B|,  so  rate(a, b) <= |A ∩ B| / max(|a|, |b|).
# Since |A ∩ B| <= min(|a|, |b|), this implies the length bound rate <= min/max, which is
# applied first (benchmark items sorted by length, a contiguous window per training item).
# Neither filter can drop a pair whose rate reaches tau.


@numba.njit(cache=True, nogil=True)
def _bag_filter(train_ptr, train_types, train_counts, train_len, bench_counts, bench_len, lo, hi, tau, out):
    """Pairs (i, j), bench j in [lo[i], hi[i]), with |A ∩ B| >= tau * max(|a|, |b|); returns their number."""
    n = 0
    for i in range(train_len.shape[0]):
        for j in range(lo[i], hi[i]):
            need = tau * max(train_len[i], bench_len[j]) - 1e-9
            inter = 0
            for p in range(train_ptr[i], train_ptr[i + 1]):
                inter += min(train_counts[p], bench_counts[j, train_types[p]])
            if inter >= need:
                out[n, 0] = i
                out[n, 1] = j
                n += 1
    return n


def _counts(seqs: list[np.ndarray], vocab_size: int) -> np.ndarray:
    out = np.zeros((len(seqs), vocab_size), dtype=np.int32)
    for row, s in zip(out, seqs):
        np.add.at(row, s, 1)
    return out


def _candidates(
    train: Sequence[np.ndarray | None], bench: Sequence[np.ndarray | None], tau: float, vocab_size: int, chunk: int
) -> list[tuple[int, int]]:
    train_idx = [i for i, s in enumerate(train) if s is not None]
    bench_idx = np.array([j for j, s in enumerate(bench) if s is not None], dtype=np.int64)
    bench_len = np.array([len(bench[j]) for j in bench_idx], dtype=np.int64)
    order = np.argsort(bench_len, kind="stable")
    bench_idx, bench_len = bench_idx[order], bench_len[order]
    bench_counts = _counts([bench[j] for j in bench_idx], vocab_size)
    pairs: list[tuple[int, int]] = []
    for start in range(0, len(train_idx), chunk):
        block = train_idx[start : start + chunk]
        train_len = np.array([len(train[i]) for i in block], dtype=np.int64)
        # Length bound: tau * max(la, lb) <= min(la, lb)  <=>  tau * la <= lb <= la / tau.
        lo = np.searchsorted(bench_len, tau * train_len - 1e-9, side="left")
        hi = np.searchsorted(bench_len, train_len / max(tau, 1e-12) + 1e-6, side="right")
        types, counts = zip(*(np.unique(train[i], return_counts=True) for i in block)) if block else ((), ())
        ptr = np.concatenate([[0], np.cumsum([len(t) for t in types], dtype=np.int64)])
        out = np.empty((int((hi - lo).sum()), 2), dtype=np.int64)
        n = _bag_filter(
            ptr,
            np.concatenate([*types, np.empty(0, np.int32)]).astype(np.int64),
            np.concatenate([*counts, np.empty(0, np.int64)]).astype(np.int64),
            train_len, bench_counts, bench_len, lo, hi, tau, out,
        )
        pairs.extend((block[i], int(bench_idx[j])) for i, j in out[:n])
    return pairs


def ast_candidates(
    train_seqs: Sequence[Sequence[str] | None],
    bench_seqs: Sequence[Sequence[str] | None],
    tau: float,
    chunk: int = 4096,
) -> list[tuple[int, int]]:
    """(train_idx, bench_idx) pairs that pass the length and bag-of-node-types bounds at `tau`.

    Every pair with ast_match_rate >= tau is among them; None sequences are skipped."""
    vocab = _Vocabulary()
    train = [None if s is None else vocab.encode(s) for s in train_seqs]
    bench = [None if s is None else vocab.encode(s) for s in bench_seqs]
    return _candidates(train, bench, tau, len(vocab), chunk)


@dataclass
class AstMatches:
    """Result of `ast_matches`."""

    matches: list[tuple[int, str, float]]  # (train_idx, bench_id, rate) with rate >= tau
    candidate_pairs: int  # pairs left after the length and bag filters
    total_pairs: int  # parseable training items x parseable benchmark items
    unparseable_train: list[int]
    unparseable_bench: list[str]


def ast_matches(train_codes: Sequence[str], bench_codes: Mapping[str, str], tau: float) -> AstMatches:
    """All (training item, benchmark item) pairs with AST match rate >= tau; code that does not
    parse is listed in the result, not matched."""
    bench_ids = list(bench_codes)
    train_seqs = [normalized_ast_sequence(c) for c in train_codes]
    bench_seqs = [normalized_ast_sequence(bench_codes[b]) for b in bench_ids]
    vocab = _Vocabulary()
    train = [None if s is None else vocab.encode(s) for s in train_seqs]
    bench = [None if s is None else vocab.encode(s) for s in bench_seqs]
    candidates = _candidates(train, bench, tau, len(vocab), chunk=4096)
    matches = []
    for i, j in candidates:
        longest = max(len(train[i]), len(bench[j]))
        max_dist = _max_dist(tau, longest)
        dist = _levenshtein(train[i], bench[j], max_dist)
        if dist <= max_dist:
            matches.append((i, bench_ids[j], 1.0 - dist / longest if longest else 1.0))
    unparseable_train = [i for i, s in enumerate(train_seqs) if s is None]
    unparseable_bench = [b for b, s in zip(bench_ids, bench_seqs) if s is None]
    return AstMatches(
        matches=matches,
        candidate_pairs=len(candidates),
        total_pairs=(len(train_seqs) - len(unparseable_train)) * (len(bench_ids) - len(unparseable_bench)),
        unparseable_train=unparseable_train,
        unparseable_bench=unparseable_bench,
    )


# ----------------------------------------------------------------------------- embeddings


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1)


def embedding_distances(
    train: np.ndarray, bench: np.ndarray, k: int, block: int = 4096
) -> tuple[np.ndarray, np.ndarray]:
    """For each training row, the indices (int64) and L2 distances (float32), nearest first, of the
    k nearest benchmark rows after unit normalisation (a zero row stays zero: distance sqrt(2) to
    all). Memory is O(block x len(bench)) beyond the inputs and outputs."""
    t, b = _unit(train), _unit(bench)
    k = min(k, b.shape[0])
    indices = np.empty((t.shape[0], k), dtype=np.int64)
    distances = np.empty((t.shape[0], k), dtype=np.float32)
    for start in range(0, t.shape[0], block):
        d2 = np.maximum(2.0 - 2.0 * (t[start : start + block] @ b.T), 0.0)
        part = np.argpartition(d2, k - 1, axis=1)[:, :k] if k < b.shape[0] else np.broadcast_to(np.arange(k), d2.shape)
        part_d2 = np.take_along_axis(d2, part, axis=1)
        order = np.argsort(part_d2, axis=1, kind="stable")
        indices[start : start + block] = np.take_along_axis(part, order, axis=1)
        distances[start : start + block] = np.sqrt(np.take_along_axis(part_d2, order, axis=1))
    return indices, distances
