"""One file of training data against the benchmark problems: the match table.

A row of the match table is a (training item, benchmark problem) pair with the three scores
(n-gram overlap of the whole item; over the item's code units, the highest AST match rate and
the smallest embedding distance). A pair gets a row when a measure flags it (overlap >=
ngram.threshold, distance <= embedding.threshold, rate >= the lowest tau), and, flagged or
not, when the item is among the problem's `nearest` items by embedding in this file, so that
the report can show every problem's closest training data.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import InputError
from ..io import atomic_path, write_json
from ..progress import progress
from .items import (KINDS, ItemFeatures, Problem, init_worker, item_features, problem_sequence, problems_of, read_items,
                    worker_features)
from .measures import AstIndex, NgramIndex, embedding_neighbours, unit_rows

log = logging.getLogger(__name__)

MEASURES = ("ngram", "embedding", "ast")
EMBED_BATCH = 2048  # units embedded at a time, for the progress bar
MATCH_SCHEMA = pa.schema([
    ("dataset", pa.string()), ("file", pa.string()), ("row", pa.int64()), ("id", pa.string()),
    ("benchmark", pa.string()), ("task_id", pa.string()), ("unit", pa.int32()),
    ("ngram", pa.float32()), ("embedding", pa.float32()), ("ast", pa.float32()),
    ("flagged_by", pa.list_(pa.string())), ("nearest", pa.bool_()),
])


@dataclass(frozen=True)
class DecontamConfig:
    ngram_n: int = 13
    ngram_threshold: float = 0.5
    embedding: bool = True
    embedding_threshold: float = 0.5
    nearest: int = 3
    taus: tuple[float, ...] = (0.95, 0.9, 0.85, 0.8)
    on_unparseable: str = "skip"  # or "error"

    @classmethod
    def from_config(cls, section: dict) -> DecontamConfig:
        """From the workflow's `decontam` config section (defaults filled by the schema)."""
        return cls(ngram_n=section["ngram"]["n"], ngram_threshold=section["ngram"]["threshold"],
                   embedding=section["embedding"]["enabled"], embedding_threshold=section["embedding"]["threshold"],
                   nearest=section["embedding"]["nearest"], taus=tuple(section["ast"]["taus"]),
                   on_unparseable=section["on_unparseable"])


def _features(texts: list[str | None], kind: str, ngrams: NgramIndex, workers: int, desc: str) -> list[ItemFeatures]:
    if workers <= 1 or len(texts) < 512:
        return [item_features(t or "", kind, ngrams) for t in progress(texts, desc=desc, unit="item")]
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=init_worker, initargs=(kind, ngrams)) as pool:
        chunksize = max(16, min(256, len(texts) // (workers * 8)))
        return list(progress(pool.map(worker_features, texts, chunksize=chunksize), desc=desc, total=len(texts),
                             unit="item"))


def _embed(embedder, texts: list[str], desc: str) -> np.ndarray:
    out = np.empty((len(texts), embedder.dim), np.float32)
    with progress(desc=desc, total=len(texts), unit="unit") as bar:
        for start in range(0, len(texts), EMBED_BATCH):
            out[start : start + EMBED_BATCH] = embedder.embed(texts[start : start + EMBED_BATCH])
            bar.update(min(EMBED_BATCH, len(texts) - start))
    return unit_rows(out)


def decontaminate(path: str | Path, problems: list[Problem], cfg: DecontamConfig, *, kind: str, dataset: str,
                  text_column: str = "text", id_column: str | None = "id", embedder=None,
                  workers: int = 1) -> tuple[pa.Table, dict]:
    """The match table of one training file and its stats. `embedder` is a loaded
    quality.embed.Embedder, or None to skip the embedding measure."""
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    if not problems:
        raise ValueError("no benchmark problems to compare with")
    name = Path(path).name
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    ids, texts = read_items(path, text_column, id_column)
    ngrams = NgramIndex([p.text for p in problems], cfg.ngram_n)
    features = _features(texts, kind, ngrams, workers, desc=f"parse {name}")
    seconds["parse_and_ngrams"] = time.perf_counter() - start

    unparseable = [i for i, f in enumerate(features) if f.unparseable]
    if unparseable and cfg.on_unparseable == "error":
        i = unparseable[0]
        raise InputError(path, f"row {i} (id {ids[i]}): code does not parse ({features[i].first_error}); "
                               f"{len(unparseable)} items in all (decontam.on_unparseable: skip counts them instead)")
    owner = np.array([i for i, f in enumerate(features) for _ in f.units], dtype=np.int64)
    sequences = [s for f in features for s in f.sequences]
    first_unit = np.zeros(len(features) + 1, dtype=np.int64)
    np.cumsum([len(f.units) for f in features], out=first_unit[1:])

    scores: dict[tuple[int, int], dict] = defaultdict(lambda: {"flagged_by": [], "nearest": False})
    for i, f in enumerate(features):
        for j, overlap in f.ngram.items():
            if overlap >= cfg.ngram_threshold:
                scores[i, j]["flagged_by"].append("ngram")

    start = time.perf_counter()
    ast_index = AstIndex([problem_sequence(p.code) for p in problems])
    matches = ast_index.match(sequences, min(cfg.taus), workers)
    best_ast: dict[tuple[int, int], tuple[float, int]] = {}
    for u, j, rate in zip(matches.train.tolist(), matches.bench.tolist(), matches.rates.tolist()):
        key = (int(owner[u]), j)
        if rate > best_ast.get(key, (-1.0, -1))[0]:
            best_ast[key] = (rate, u - int(first_unit[key[0]]))
    for key in best_ast:
        scores[key]["flagged_by"].append("ast")
    seconds["ast"] = time.perf_counter() - start

    unit_vectors = bench_vectors = None
    if embedder is not None and cfg.embedding and len(owner):
        start = time.perf_counter()
        bench_vectors = unit_rows(embedder.embed([p.text for p in problems]))
        unit_vectors = _embed(embedder, [u for f in features for u in f.units], desc=f"embed {name}")
        found = embedding_neighbours(unit_vectors, bench_vectors, cfg.embedding_threshold, k=4 * cfg.nearest)
        for u, j in {(int(owner[u]), j) for u, j in found.close.tolist()}:
            scores[u, j]["flagged_by"].append("embedding")
        for j, units in enumerate(found.nearest.tolist()):
            items = list(dict.fromkeys(int(owner[u]) for u in units))[: cfg.nearest]
            for i in items:
                scores[i, j]["nearest"] = True
        seconds["embedding"] = time.perf_counter() - start

    start = time.perf_counter()
    rows = []
    for (i, j), entry in sorted(scores.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        units = range(first_unit[i], first_unit[i + 1])
        if (i, j) in best_ast:
            ast_rate, unit = best_ast[i, j]
        elif len(units):
            rates = [ast_index.rate(sequences[u], j) for u in units]
            unit = int(np.nanargmax(rates)) if not all(math.isnan(r) for r in rates) else 0
            ast_rate = rates[unit]
        else:
            ast_rate, unit = math.nan, -1
        distance = math.nan
        if unit_vectors is not None and len(units):
            distances = np.sqrt(np.maximum(2.0 - 2.0 * unit_vectors[units.start : units.stop] @ bench_vectors[j], 0.0))
            distance = float(distances.min())
            if "ast" not in entry["flagged_by"] and math.isnan(ast_rate):
                unit = int(distances.argmin())
        problem = problems[j]
        rows.append({"dataset": dataset, "file": name, "row": i, "id": ids[i], "benchmark": problem.benchmark,
                     "task_id": problem.task_id, "unit": unit, "ngram": features[i].ngram.get(j, 0.0),
                     "embedding": distance, "ast": ast_rate, "flagged_by": sorted(entry["flagged_by"]),
                     "nearest": entry["nearest"]})
    table = pa.Table.from_pylist(rows, schema=MATCH_SCHEMA)
    seconds["pairs"] = time.perf_counter() - start

    flagged = [r for r in rows if r["flagged_by"]]
    stats = {
        "dataset": dataset, "file": name, "items": len(features), "units": len(owner),
        "unparseable_items": len(unparseable), "unparseable_blocks": sum(f.unparseable for f in features),
        "problems": {b: sum(p.benchmark == b for p in problems) for b in dict.fromkeys(p.benchmark for p in problems)},
        "ast": {"tau": min(cfg.taus), "unit_pairs": matches.total_pairs, "candidate_pairs": matches.candidate_pairs,
                "matches": len(matches.rates)},
        "flagged_pairs": {m: sum(m in r["flagged_by"] for r in rows) for m in MEASURES},
        "flagged_items": len({r["row"] for r in flagged}),
        "rows": len(rows),
        "embedding": unit_vectors is not None,
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
    }
    log.info("%s: %d items, %d units, %d unparseable; flagged pairs %s; %s", name, stats["items"], stats["units"],
             stats["unparseable_items"], stats["flagged_pairs"], stats["seconds"])
    return table, stats


def match_file(data: str, benchmarks: list[str], dataset: str, kind: str, settings: dict, embedder: dict | None,
               out: str, stats_out: str, workers: int = 1, text_column: str = "text",
               id_column: str | None = "id") -> dict:
    """Match one training file against the benchmark files; write its match table and stats.

    `settings` is the `decontam` config section; `embedder` a quality.embedder section, or None."""
    from ..quality.embed import EmbedderConfig, load_embedder

    cfg = DecontamConfig.from_config(settings)
    problems = [p for path in benchmarks for p in problems_of(path, settings["mbpp_splits"])]
    model = load_embedder(EmbedderConfig(**embedder)) if embedder and cfg.embedding else None
    table, stats = decontaminate(data, problems, cfg, kind=kind, dataset=dataset, text_column=text_column,
                                 id_column=id_column, embedder=model, workers=workers)
    with atomic_path(out) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    write_json(stats_out, stats)
    return stats
