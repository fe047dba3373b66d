"""Benchmark our MinHash (phi1repro.corpus.minhash) against datasketch, and the corpus ingest.

On the .py files of the running interpreter's standard library (site-packages excluded), in
one process (figures are per core), side by side on the same machine:

1. signature throughput, files/s and MB/s: 256 permutations over word 5-grams, ours from the
   raw text vs datasketch's MinHash(num_perm=256, seed=1) fed the very same shingles, timed
   both with the shingles given and from the raw text (shingling included, as in ours). Best
   of --repeats timed passes (more, until 2 s are spent); ours gets a fresh MinHasher each
   pass, after one warm-up call that compiles numba's loops (or loads them from numba's disk
   cache);
2. agreement on labelled pairs: planted near-duplicates of stdlib files (identifiers renamed,
   comments edited, lines inserted and deleted, whitespace and line breaks reformatted, at a
   random edit rate) and pairs of distinct files (same package or random), labelled duplicate
   when the TRUE Jaccard similarity of their shingle sets is >= 0.7. For both: recall and
   precision of LSH candidates at threshold 0.7 (ours: a shared band key under
   optimal_bands(0.7, 256); datasketch: MinHashLSH(threshold=0.7, num_perm=256), insert one,
   query the other), the recall the (bands, rows) S-curve predicts for these pairs, and the
   mean absolute error of the Jaccard estimates;
3. ingest throughput: read_local (one shard) -> apply_filters(FilterConfig()) -> JsonlZstWriter
   into a temporary directory, files/s and MB/s of input text, timed the same way.

It reports numbers; it checks nothing. Run from the repository root:

    .venv/bin/python benchmarks/minhash.py [--files N] [--pairs N] [--out results/speed/minhash.json]

A full run takes about a minute on one core.
"""

from __future__ import annotations

import argparse
import builtins
import keyword
import logging
import platform
import random
import re
import tempfile
import time
from collections import Counter, defaultdict
from importlib.metadata import version
from pathlib import PurePosixPath

import numpy as np
from datasketch import MinHash, MinHashLSH

from phi1repro.corpus.filters import FilterConfig, apply_filters
from phi1repro.corpus.minhash import MinHasher, _signature, band_keys, jaccard_estimate, optimal_bands, shingles
from phi1repro.corpus.readers import read_local
from phi1repro.io import JsonlZstWriter, write_json

NUM_PERM, NGRAM, THRESHOLD = 256, 5, 0.7
STDLIB, EXCLUDE = ["{stdlib}"], ["site-packages/*"]
MIN_TIMED_S = 2.0  # each timing makes at least --repeats passes and goes on until this much time is spent
MIN_SHINGLES = 100  # files in pairs: big enough that one edit is not a large part of them
MAX_EDIT_RATE = 0.25  # planted duplicates edit each line with a probability drawn from [0, this]

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
RESERVED = frozenset(keyword.kwlist) | frozenset(dir(builtins)) | {"self", "cls"}
SUFFIXES = ("_new", "_tmp", "2", "_old", "_")
COMMENT_WORDS = "note this is the fast path keep in sync with caller see issue todo handle edge case here".split()


def read_stdlib(counts: Counter) -> list[dict]:
    return list(read_local(STDLIB, EXCLUDE, source="stdlib", shard=0, num_shards=1,
                           max_bytes=FilterConfig().max_bytes, counts=counts))


def best_time(run, repeats: int) -> float:
    """The shortest wall time of calls of `run()`: `repeats` calls, more until MIN_TIMED_S are spent."""
    times = []
    while len(times) < repeats or sum(times) < MIN_TIMED_S:
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def datasketch_minhash(shingle_set) -> MinHash:
    m = MinHash(num_perm=NUM_PERM, seed=1)
    m.update_batch(list(shingle_set))
    return m


def signature_throughput(texts: list[str], repeats: int) -> dict:
    start = time.perf_counter()
    MinHasher(NUM_PERM, NGRAM).signature("one call compiles the numba loop")
    result = {"warmup_s": round(time.perf_counter() - start, 3),
              "numba_cache_hit": sum(_signature.stats.cache_hits.values()) > 0}
    nbytes = sum(len(t.encode("utf-8", "surrogatepass")) for t in texts)

    def measure(name, run):
        seconds = best_time(run, repeats)
        result[name] = {"seconds": round(seconds, 3), "files_per_s": round(len(texts) / seconds, 1),
                        "mb_per_s": round(nbytes / seconds / 1e6, 2)}
        if name != "ours":
            result[name]["ours_speedup"] = round(seconds / result["ours"]["seconds"], 2)

    def ours():
        hasher = MinHasher(NUM_PERM, NGRAM)  # as at the start of a shard
        for text in texts:
            hasher.signature(text)

    def datasketch_from_text():
        for text in texts:
            datasketch_minhash(shingles(text, NGRAM))

    def datasketch_shingles_given():
        for shingle_set in shingled:
            datasketch_minhash(shingle_set)

    measure("ours", ours)
    measure("datasketch_from_text", datasketch_from_text)
    shingled = [shingles(text, NGRAM) for text in texts]  # built after the other runs: held, it slows them
    measure("datasketch_shingles_given", datasketch_shingles_given)
    return result


def near_duplicate(text: str, donor_lines: list[str], edit_rate: float, rng: random.Random) -> str:
    """A planted near-duplicate of `text`: each line is edited with probability `edit_rate` (an
    identifier renamed, a comment added, changed or removed, the line deleted, or a line of
    another file inserted after it); indentation, blank lines and line breaks are reformatted."""
    indent = rng.choice(("  ", "\t", "        "))
    out = []
    for line in text.splitlines():
        if rng.random() < edit_rate:
            op = rng.choice(("rename", "comment", "delete", "insert"))
            if op == "delete":
                continue
            if op == "insert":
                out.append(rng.choice(donor_lines))
            elif op == "rename" and (names := [m for m in IDENTIFIER.finditer(line) if m.group() not in RESERVED]):
                m = rng.choice(names)
                line = line[: m.start()] + m.group() + rng.choice(SUFFIXES) + line[m.end() :]
            elif op == "comment" and line.lstrip().startswith("#"):
                line = "" if rng.random() < 0.5 else "# " + " ".join(rng.sample(COMMENT_WORDS, 4))
            elif op == "comment":
                out.append("# " + " ".join(rng.sample(COMMENT_WORDS, 4)))
        body = line.lstrip(" ")
        depth = len(line) - len(body)
        line = indent * (depth // 4) + " " * (depth % 4) + body  # reindented
        if len(line) > 60 and rng.random() < 0.3:
            line = line.replace(", ", ",\n" + indent * 2)  # long call broken after its commas
        out.append(line + " " * rng.randint(0, 1))
        if rng.random() < 0.05:
            out.append("")
    return "\n".join(out) + "\n"


def build_pairs(records: list[dict], n: int, rng: random.Random) -> list[tuple[str, str, str]]:
    """(kind, text_a, text_b): half planted near-duplicates, a quarter pairs of distinct files of
    the same package, a quarter pairs of distinct files drawn at random."""
    by_id = {r["id"]: r for r in records if len(shingles(r["text"], NGRAM)) >= MIN_SHINGLES}
    files = sorted(by_id.values(), key=lambda r: r["path"])  # one per distinct content
    packages = defaultdict(list)
    for r in files:
        packages[PurePosixPath(r["path"]).parent].append(r)
    pairs = []
    for _ in range(n // 2):
        a, donor = rng.sample(files, 2)
        edited = near_duplicate(a["text"], donor["text"].splitlines(), rng.uniform(0, MAX_EDIT_RATE), rng)
        pairs.append(("planted", a["text"], edited))
    while len(pairs) < n - n // 4:
        a = rng.choice(files)
        siblings = packages[PurePosixPath(a["path"]).parent]
        if len(siblings) > 1:
            b = rng.choice([s for s in siblings if s is not a])
            pairs.append(("same_package", a["text"], b["text"]))
    while len(pairs) < n:
        a, b = rng.sample(files, 2)
        pairs.append(("random", a["text"], b["text"]))
    return pairs


def s_curve(jaccard: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """The probability that LSH with `bands` bands of `rows` rows makes a pair a candidate."""
    return 1 - (1 - jaccard**rows) ** bands


def scores(candidate: np.ndarray, estimate: np.ndarray, true: np.ndarray, bands: int, rows: int) -> dict:
    label = true >= THRESHOLD
    tp, fp, fn = int(np.sum(candidate & label)), int(np.sum(candidate & ~label)), int(np.sum(~candidate & label))
    return {"bands": bands, "rows": rows, "true_positives": tp, "false_positives": fp, "false_negatives": fn,
            "recall": round(tp / max(tp + fn, 1), 4), "precision": round(tp / max(tp + fp, 1), 4),
            "expected_recall": round(float(np.mean(s_curve(true[label], bands, rows))), 4),
            "jaccard_mae": round(float(np.mean(np.abs(estimate - true))), 4)}


def agreement(pairs: list[tuple[str, str, str]]) -> dict:
    bands, rows = optimal_bands(THRESHOLD, NUM_PERM)
    hasher = MinHasher(NUM_PERM, NGRAM)
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    true, ours_est, ours_cand, ds_est, ds_cand = [], [], [], [], []
    for i, (_, a, b) in enumerate(pairs):
        sa, sb = shingles(a, NGRAM), shingles(b, NGRAM)
        true.append(len(sa & sb) / len(sa | sb))
        sig = np.stack([hasher.signature(a), hasher.signature(b)])
        keys = band_keys(sig, bands, rows)
        ours_est.append(jaccard_estimate(sig[0], sig[1]))
        ours_cand.append(bool(np.any(keys[0] == keys[1])))
        ma, mb = datasketch_minhash(sa), datasketch_minhash(sb)
        lsh.insert(i, ma)
        ds_est.append(ma.jaccard(mb))
        ds_cand.append(i in lsh.query(mb))
    true, ours_cand, ds_cand = np.array(true), np.array(ours_cand), np.array(ds_cand)
    p_ours, p_ds = s_curve(true, bands, rows), s_curve(true, lsh.b, lsh.r)
    kinds = Counter((kind, "duplicate" if j >= THRESHOLD else "distinct") for (kind, _, _), j in zip(pairs, true))
    planted = [j for (kind, _, _), j in zip(pairs, true) if kind == "planted"]
    return {
        "pairs": len(pairs),
        "duplicates": int(np.sum(true >= THRESHOLD)),
        "by_kind": {f"{kind}/{label}": count for (kind, label), count in sorted(kinds.items())},
        "planted_jaccard": {"min": round(min(planted), 3), "median": round(float(np.median(planted)), 3),
                            "max": round(max(planted), 3)},
        "ours": scores(ours_cand, np.array(ours_est), true, bands, rows),
        "datasketch": scores(ds_cand, np.array(ds_est), true, lsh.b, lsh.r),
        "candidate_decisions_differ": int(np.sum(ours_cand != ds_cand)),
        # ...and how many to expect from two independent hash families with these S-curves
        "candidate_decisions_differ_expected": round(float(np.sum(p_ours * (1 - p_ds) + p_ds * (1 - p_ours))), 1),
    }


def ingest_throughput(total_bytes: int, repeats: int) -> dict:
    stats = {}

    def run():
        counts, dropped = Counter(), Counter()
        with tempfile.TemporaryDirectory() as tmp, JsonlZstWriter(f"{tmp}/stdlib-00000.jsonl.zst") as writer:
            for record in apply_filters(read_stdlib(counts), FilterConfig(), dropped):
                writer.write(record)
        stats.update(files=counts["files_seen"], kept=writer.count, reader=dict(sorted(counts.items())),
                     dropped=dict(sorted(dropped.items())))

    seconds = best_time(run, repeats)
    return {**stats, "seconds": round(seconds, 3), "files_per_s": round(stats["files"] / seconds, 1),
            "mb_per_s": round(total_bytes / seconds / 1e6, 2)}


def machine() -> dict:
    with open("/proc/cpuinfo") as f:
        cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), platform.machine())
    return {"cpu": cpu, "python": platform.python_version(),
            **{name: version(name) for name in ("numpy", "numba", "datasketch")}}


def print_table(corpus: dict, sig: dict, agree: dict, ingest: dict, repeats: int) -> None:
    print(f"{corpus['files']} stdlib files, {corpus['mb']} MB; signatures on {corpus['files_timed']} files, "
          f"{corpus['mb_timed']} MB; best of >= {repeats} passes (>= {MIN_TIMED_S:g} s), one core")
    print(f"\n{'signatures (256 perm, word 5-grams)':42} {'files/s':>9} {'MB/s':>8} {'ours faster':>11}")
    labels = {"ours": "ours, from text", "datasketch_shingles_given": "datasketch, shingles given",
              "datasketch_from_text": "datasketch, from text (shingling incl.)"}
    for name, label in labels.items():
        r = sig[name]
        print(f"  {label:40} {r['files_per_s']:9.0f} {r['mb_per_s']:8.2f} {r.get('ours_speedup', 1.0):10.2f}x")
    cache = "loaded from numba's cache" if sig["numba_cache_hit"] else "numba compile"
    print(f"  ours, first call (one-off, {cache}): {sig['warmup_s']:.2f} s")
    print(f"\nLSH at Jaccard >= {THRESHOLD}: {agree['pairs']} pairs, {agree['duplicates']} duplicates by true Jaccard "
          f"(planted pairs' Jaccard {agree['planted_jaccard']['min']}..{agree['planted_jaccard']['max']})")
    print(f"  {'':12} {'b x r':>7} {'recall':>7} {'expected':>9} {'precision':>9} {'TP/FN/FP':>11} {'MAE of J':>9}")
    for name in ("ours", "datasketch"):
        r = agree[name]
        counts = f"{r['true_positives']}/{r['false_negatives']}/{r['false_positives']}"
        print(f"  {name:12} {r['bands']:>3}x{r['rows']:<3} {r['recall']:7.3f} {r['expected_recall']:9.3f} "
              f"{r['precision']:9.3f} {counts:>11} {r['jaccard_mae']:9.4f}")
    print(f"  pairs where the two disagree on candidacy: {agree['candidate_decisions_differ']} "
          f"({agree['candidate_decisions_differ_expected']:.0f} expected of independent hashes)")
    print(f"\ningest (read_local -> apply_filters -> JsonlZstWriter): {ingest['files_per_s']:.0f} files/s, "
          f"{ingest['mb_per_s']:.2f} MB/s; {ingest['kept']} of {ingest['files']} files kept")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, help="time signatures on this many files (a seeded sample); default all")
    parser.add_argument("--pairs", type=int, default=1000, help="labelled pairs for the LSH agreement (default 1000)")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes at least, the best one counts (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the file sample and the pairs (default 0)")
    parser.add_argument("--out", default="results/speed/minhash.json", help="JSON results")
    args = parser.parse_args()
    logging.getLogger("phi1repro.corpus.readers").setLevel(logging.ERROR)  # non-UTF-8 files: counted, not logged

    counts = Counter()
    records = read_stdlib(counts)
    rng = random.Random(args.seed)
    timed = records if args.files is None else rng.sample(records, min(args.files, len(records)))
    corpus = {"files": len(records), "mb": round(sum(r["n_bytes"] for r in records) / 1e6, 2),
              "files_timed": len(timed), "mb_timed": round(sum(r["n_bytes"] for r in timed) / 1e6, 2),
              "skipped_non_utf8": counts["non_utf8"], "skipped_too_large": counts["too_large"]}

    sig = signature_throughput([r["text"] for r in timed], args.repeats)
    agree = agreement(build_pairs(records, args.pairs, rng))
    ingest = ingest_throughput(sum(r["n_bytes"] for r in records), args.repeats)
    print_table(corpus, sig, agree, ingest, args.repeats)
    write_json(args.out, {"machine": machine(), "corpus": corpus, "signatures": sig, "lsh": agree, "ingest": ingest,
                          "settings": {"num_perm": NUM_PERM, "ngram": NGRAM, "threshold": THRESHOLD,
                                       "repeats": args.repeats, "seed": args.seed,
                                       "datasketch_scheme": MinHash(num_perm=NUM_PERM, seed=1).scheme}})


if __name__ == "__main__":
    main()
