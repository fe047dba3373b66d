"""The measures alone: n-grams, AST match rate and its exact filters, embedding neighbours."""

import ast
import random

import numpy as np
import pytest

from phi1repro.decontam.measures import (
    AstIndex,
    NgramIndex,
    ast_match_rate,
    ast_matches,
    embedding_neighbours,
    encode,
    ngram_overlap,
    ngram_set,
    normalized_ast_sequence,
    normalized_tokens,
)

from tests.decontam_cases import BASE, BENCH, CLEAN, RENAMED, REFORMATTED, REWORDED, WHILE_LOOP


def seq(code):
    return normalized_ast_sequence(code)


@pytest.mark.parametrize("variant", [BASE, RENAMED, REFORMATTED, REWORDED])
def test_surface_edits_keep_the_ast_sequence(variant):
    assert ast_match_rate(seq(BASE), seq(variant)) == 1.0


def test_loop_rewrite_lowers_the_rate():
    # The while version adds a counter (init, test, increment, element lookup): 12 more nodes on
    # a 48-node function, 15 edits in all, so 1 - 15/60 = 0.75 falls below the lowest tau (0.8).
    # In a longer function the same rewrite would cost relatively less.
    rate = ast_match_rate(seq(BASE), seq(WHILE_LOOP))
    print(f"for -> while rewrite: AST match rate {rate:.3f}")
    assert 0.7 <= rate < 0.8


def test_renaming_defeats_ngrams_but_not_ast():
    bench = ngram_set(normalized_tokens(BASE), 13)
    assert ngram_overlap(normalized_tokens(BASE), bench, 13) == 1.0
    overlaps = {name: ngram_overlap(normalized_tokens(code), bench, 13)
                for name, code in [("renamed", RENAMED), ("reformatted", REFORMATTED), ("reworded", REWORDED)]}
    print("13-gram overlap with the original:", overlaps)
    # Layout is not a token, so reformatting keeps most 13-grams (extra parentheses break a few);
    # renaming or rewording leaves only a few docstring windows, below the 0.5 threshold.
    assert overlaps["reformatted"] >= 0.5
    assert overlaps["renamed"] < 0.5 and overlaps["reworded"] < 0.5


def test_tokens_are_lowercase_words_and_punctuation():
    assert normalized_tokens("X = 1  # Hi\nif x:\n    y = 'a b'\n") == [
        "x", "=", "1", "#", "hi", "if", "x", ":", "y", "=", "'", "a", "b", "'"]
    assert ngram_set(["a"] * 5, 13) == set()
    assert ngram_set(list("abcd"), 2) == ngram_set(list("abcd"), 2)  # no salted hashing in play
    assert ngram_overlap(["a"], set(), 13) == 0.0


def test_ngram_index_matches():
    texts = [*BENCH.values(), BASE]
    index = NgramIndex(texts, n=13)
    assert index.matches(BASE)[len(texts) - 1] == 1.0
    assert all(index.matches(code) == {} for code in CLEAN)
    assert max(index.matches(RENAMED).values(), default=0) < 0.5


def test_ast_sequence_abstraction():
    assert seq("def f(x):\n    'doc'\n    return x.y + 1") == seq("def g(z):\n    return z.w + 2.5")
    assert seq("f('a')") != seq("f(1)")
    assert seq("def f(:") is None
    assert seq("") == ["Module"]
    assert ast_match_rate([], []) == 1.0
    assert ast_match_rate(["a", "b"], ["c"]) == 0.0


def test_clean_exercises_are_not_flagged():
    assert len(ast_matches(CLEAN, list(BENCH.values()), tau=0.8).rates) == 0
    index = NgramIndex(list(BENCH.values()))
    assert all(not index.matches(code) for code in CLEAN)


def test_planted_contaminations_are_found():
    bench = [*BENCH.values(), BASE]
    planted = len(bench) - 1
    train = CLEAN + [BASE, RENAMED, REFORMATTED, REWORDED, WHILE_LOOP, "def broken(:\n    pass"]
    n = len(CLEAN)
    result = ast_matches(train, bench, tau=0.8)
    found = set(zip(result.train.tolist(), result.bench.tolist(), result.rates.tolist()))
    assert {(i, b) for i, b, r in found if r == 1.0} >= {(n + k, planted) for k in range(4)}
    assert {i for i, _, _ in found} == {n, n + 1, n + 2, n + 3}
    assert result.total_pairs == (len(train) - 1) * len(bench)  # the broken one is not compared
    loose = ast_matches(train, bench, tau=0.7)
    assert (n + 4, planted) in set(zip(loose.train.tolist(), loose.bench.tolist()))




def mutate(code: str, rng: random.Random) -> str:
    """Delete or duplicate a few statements, so that rates spread around the thresholds."""
    tree = ast.parse(code)
    bodies = [n.body for n in ast.walk(tree) if isinstance(getattr(n, "body", None), list) and len(n.body) > 1]
    for _ in range(rng.randint(0, 3)):
        if not bodies:
            break
        body = rng.choice(bodies)
        k = rng.randrange(len(body))
        if rng.random() < 0.5 and len(body) > 1:
            del body[k]
        else:
            body.insert(k, body[k])
    return ast.unparse(tree)


def training_set(n: int, bench: list[str], seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return [mutate(rng.choice(bench), rng) if rng.random() < 0.8 else rng.choice(CLEAN) for _ in range(n)]


@pytest.mark.parametrize("tau", [0.95, 0.9, 0.85, 0.8])
def test_matches_are_exact_against_brute_force(tau):
    bench_codes = list(BENCH.values())[:40]
    train_codes = training_set(300, bench_codes)
    train = [seq(c) for c in train_codes] + [None]
    bench = [seq(c) for c in bench_codes]
    brute = {(i, j) for i, a in enumerate(train) if a is not None for j, b in enumerate(bench)
             if ast_match_rate(a, b) >= tau - 1e-9}
    index = AstIndex([encode(b) for b in bench])
    result = index.match([None if a is None else encode(a) for a in train], tau, workers=2, chunk=64)
    total = (len(train) - 1) * len(bench)
    print(f"tau={tau}: {result.candidate_pairs}/{total} candidate pairs "
          f"({1 - result.candidate_pairs / total:.1%} pruned), {len(brute)} above tau")
    assert result.total_pairs == total
    assert result.candidate_pairs < 0.2 * total and len(brute) > 50
    assert set(zip(result.train.tolist(), result.bench.tolist())) == brute
    for i, j, r in zip(result.train, result.bench, result.rates):
        assert r == pytest.approx(ast_match_rate(train[i], bench[j])) == pytest.approx(index.rate(encode(train[i]), j))


def test_embedding_neighbours_match_brute_force():
    rng = np.random.default_rng(0)
    train, bench = rng.normal(size=(1000, 64)), rng.normal(size=(50, 64))
    train[7] = 0.0  # a zero row: distance sqrt(2) to everything
    t = train / np.maximum(np.linalg.norm(train, axis=1, keepdims=True), 1e-30)
    b = bench / np.linalg.norm(bench, axis=1, keepdims=True)
    full = np.sqrt(np.maximum(2 - 2 * t @ b.T, 0))  # (train, bench); sqrt(2) from the zero row
    threshold = np.quantile(full, 0.01)
    result = embedding_neighbours(train, bench, threshold, k=5, block=128)
    assert set(map(tuple, result.close.tolist())) == set(zip(*np.nonzero(full <= threshold)))
    np.testing.assert_allclose(result.close_distances, full[result.close[:, 0], result.close[:, 1]], atol=1e-5)
    np.testing.assert_allclose(result.nearest_distances, np.sort(full.T, axis=1)[:, :5], atol=1e-5)
    np.testing.assert_allclose(np.take_along_axis(full.T, result.nearest, axis=1), result.nearest_distances, atol=1e-5)
    assert embedding_neighbours(train[:3], bench, 0.0, k=10).nearest.shape == (50, 3)
