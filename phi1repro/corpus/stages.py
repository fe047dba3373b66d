"""The corpus stage's steps, one function per Snakemake rule: read, sign, cluster, dedup (holding out
the validation set), summarise, and the validation set's prompt/target pairs.

Each step streams its input, writes its outputs atomically and returns (and writes) a stats
dict: records in and out, dropped by reason, throughput.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Iterable, Iterator

import pyarrow as pa

from ..errors import InputError
from ..io import (JsonlZstWriter, ParquetWriter, atomic_path, iter_jsonl_zst, open_parquet, read_json, read_parquet,
                  write_json)
from ..progress import progress
from . import records as rec
from .dedup import DUPLICATES_SCHEMA, DedupConfig, drop_duplicates, find_duplicates, signature_table
from .filters import FilterConfig, apply_filters
from .readers import read_local, read_the_stack
from .stackexchange import read_stackexchange
from .validation import file_pairs, is_held_out, sample_problems

log = logging.getLogger(__name__)

# Reader counters that are reasons for dropping a document (the rest are tallies).
READER_DROPS = ("non_utf8", "too_large", "wrong_extension", "null_content", "no_answer")


def _read_source(source: dict, shard: int, num_shards: int, path: str | None, max_bytes: int, counts: Counter):
    name, kind = source["name"], source["kind"]
    if kind == "local":
        return read_local(
            source["paths"], source.get("exclude", []), source=name, shard=shard, num_shards=num_shards,
            max_bytes=max_bytes, counts=counts,
        )
    if kind == "the_stack":
        return read_the_stack(path, source=name, counts=counts, extensions=source.get("extensions"))
    if kind == "stackexchange":
        return read_stackexchange(path, source=name, counts=counts, tags=source["tags"], site=source["site"])
    raise ValueError(f"corpus.sources[{name}].kind: unknown kind {kind!r}")


class _Tally:
    """Counts records and bytes flowing through an iterator."""

    def __init__(self) -> None:
        self.records = 0
        self.bytes = 0

    def add(self, record: dict) -> None:
        self.records += 1
        self.bytes += record["n_bytes"]

    def __call__(self, records: Iterable[dict]) -> Iterator[dict]:
        for r in records:
            self.add(r)
            yield r


def _throughput(start: float, records: int, nbytes: int) -> dict:
    seconds = max(time.perf_counter() - start, 1e-9)
    return {"seconds": round(seconds, 3), "records_per_s": round(records / seconds, 1),
            "mb_per_s": round(nbytes / seconds / 1e6, 3)}


def read_shard(source: dict, shard: int, num_shards: int, input_path: str | None, filters: dict,
               on_error: str, out: str, stats_out: str) -> dict:
    """Read one shard of a source, apply the content filters, write JSON lines + zstd."""
    start = time.perf_counter()
    cfg = FilterConfig(**filters)
    counts, dropped, read, kept = Counter(), Counter(), _Tally(), _Tally()
    skipped = []
    label = f"{source['name']}/{shard:05d}"
    with JsonlZstWriter(out) as writer:
        try:
            docs = _read_source(source, shard, num_shards, input_path, cfg.max_bytes, counts)
            for record in progress(kept(apply_filters(read(docs), cfg, dropped)), desc=f"read {label}"):
                writer.write(record)
        except InputError as e:
            if on_error != "skip":
                raise
            log.warning("corpus.on_error is 'skip': keeping %d records read before: %s", kept.records, e)
            skipped.append({"path": e.path, "problem": e.problem})
    for reason in READER_DROPS:
        if counts[reason]:
            dropped[reason] += counts[reason]
    stats = {
        "source": source["name"],
        "shard": shard,
        "input": input_path,
        "records_in": read.records + sum(counts[r] for r in READER_DROPS),
        "records_out": kept.records,
        "bytes_in": read.bytes,
        "bytes_out": kept.bytes,
        "dropped": dict(sorted(dropped.items())),
        "reader": dict(sorted(counts.items())),
        "skipped_inputs": skipped,
        **_throughput(start, read.records, read.bytes),
    }
    write_json(stats_out, stats)
    log.info("%s: %d in, %d out, dropped %s", label, stats["records_in"], stats["records_out"], stats["dropped"])
    return stats


def sign_shard(raw: str, shard: str, dedup: dict, out: str) -> int:
    """MinHash band keys and exact hashes of one shard."""
    cfg = DedupConfig(**dedup)
    table = signature_table(progress(iter_jsonl_zst(raw), desc=f"minhash {shard}"), shard, cfg)
    with ParquetWriter(out, table.schema) as writer:
        writer.write_table(table)
    return table.num_rows


def cluster_shards(signatures: list[str], dedup: dict, out: str, stats_out: str) -> dict:
    """Find exact and near-duplicate clusters across all shards."""
    start = time.perf_counter()
    cfg = DedupConfig(**dedup)
    tables = [read_parquet(p) for p in progress(signatures, desc="load signatures", unit="shard")]
    widths = {t.schema.field("bands").type.list_size for t in tables}
    if len(widths) > 1:
        raise InputError(signatures[0], f"signature shards disagree on the number of LSH bands {sorted(widths)}; rerun them")
    duplicates, stats = find_duplicates(pa.concat_tables(tables))
    with ParquetWriter(out, DUPLICATES_SCHEMA) as writer:
        writer.write_table(duplicates.sort_by([("shard", "ascending"), ("row", "ascending")]))
    bands, rows = cfg.bands
    stats.update(config=dedup, lsh_bands=bands, lsh_rows=rows, seconds=round(time.perf_counter() - start, 3))
    write_json(stats_out, stats)
    log.info("%d records, %d kept, dropped %s", stats["records"], stats["records_kept"], stats["dropped"])
    return stats


def dedup_shard(raw: str, duplicates: str, shard: str, validation: dict, out: str, validation_out: str,
                stats_out: str) -> dict:
    """Write one shard without the duplicates that `cluster_shards` marked, as parquet: the records
    `validation` (share, seed) holds out to `validation_out`, the others to `out`."""
    start = time.perf_counter()
    marked = read_parquet(duplicates, filters=[("shard", "==", shard), ("keep", "==", False)],
                          columns=["row", "reason"])
    rows_to_drop = dict(zip(marked.column("row").to_pylist(), marked.column("reason").to_pylist()))
    dropped, read, kept, held_out = Counter(), _Tally(), _Tally(), _Tally()
    with ParquetWriter(out, rec.SCHEMA) as writer, ParquetWriter(validation_out, rec.SCHEMA) as validation_writer:
        for record in progress(drop_duplicates(read(iter_jsonl_zst(raw)), rows_to_drop, dropped),
                               desc=f"dedup {shard}"):
            held = is_held_out(record["id"], **validation)
            (validation_writer if held else writer).write(record)
            (held_out if held else kept).add(record)
    stats = {"shard": shard, "records_in": read.records, "records_out": kept.records, "bytes_in": read.bytes,
             "bytes_out": kept.bytes, "records_held_out": held_out.records, "bytes_held_out": held_out.bytes,
             "dropped": dict(sorted(dropped.items())), **_throughput(start, read.records, read.bytes)}
    write_json(stats_out, stats)
    return stats


def summarise(read_stats: list[str], cluster_stats: str, dedup_stats: list[str], out: str) -> dict:
    """One stats JSON for the stage: per source and in total, from the read to the dedup."""
    by_source: dict[str, Counter] = {}
    dropped: Counter = Counter()
    read = [read_json(p) for p in read_stats]
    dedup = {d["shard"]: d for d in map(read_json, dedup_stats)}
    for s in read:
        totals = by_source.setdefault(s["source"], Counter())
        d = dedup[f"{s['source']}-{s['shard']:05d}"]
        totals.update(records_in=s["records_in"], records_filtered=s["records_out"], records_out=d["records_out"],
                      records_held_out=d["records_held_out"], bytes_in=s["bytes_in"], bytes_out=d["bytes_out"], shards=1)
        dropped.update(s["dropped"])
        dropped.update(d["dropped"])
    total = sum(by_source.values(), Counter())
    stats = {
        "records_in": total["records_in"],
        "records_out": total["records_out"],
        "records_held_out": total["records_held_out"],
        "bytes_in": total["bytes_in"],
        "bytes_out": total["bytes_out"],
        "dropped": dict(sorted(dropped.items())),
        "sources": {name: dict(c) for name, c in sorted(by_source.items())},
        "clusters": read_json(cluster_stats),
        "skipped_inputs": [x for s in read for x in s["skipped_inputs"]],
    }
    write_json(out, stats)
    return stats


def validation_pairs(shards: list[str], max_pairs: int, seed: int, out: str, stats_out: str) -> dict:
    """The held-out files' documented functions as HumanEval problems (JSON lines), at most `max_pairs`."""
    counts, skipped = Counter(), Counter()

    def candidates():
        for path in progress(shards, desc="validation pairs", unit="shard"):
            with open_parquet(path, ["id", "origin", "text"]) as parquet:
                for batch in parquet.iter_batches(batch_size=1024, columns=["id", "origin", "text"]):
                    for record in batch.to_pylist():
                        for pair in file_pairs(record["text"], counts, skipped):
                            counts["pairs_found"] += 1
                            yield record["id"], record["origin"], pair

    problems = sample_problems(candidates(), max_pairs, seed)
    skipped["sampled_out"] = counts["pairs_found"] - len(problems)
    with atomic_path(out) as tmp, open(tmp, "w", encoding="utf-8") as f:
        for problem in problems:
            f.write(json.dumps(problem, ensure_ascii=False) + "\n")
    stats = {"shards": len(shards), **{k: counts[k] for k in ("files", "unparseable_files", "functions", "methods",
                                                             "pairs_found")},
             "pairs": len(problems), "skipped": dict(sorted(skipped.items())), "max_pairs": max_pairs, "seed": seed}
    write_json(stats_out, stats)
    log.info("%d files (%d do not parse), %d functions and %d methods: %d pairs found, %d kept; skipped %s",
             stats["files"], stats["unparseable_files"], stats["functions"], stats["methods"], stats["pairs_found"],
             stats["pairs"], stats["skipped"])
    return stats
