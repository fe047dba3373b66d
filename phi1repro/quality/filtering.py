"""Scoring the corpus with the quality classifier, choosing the threshold, filtering the shards.

Rows are aligned by position: row i of a shard's embeddings and of its scores is row i of the
shard. Every step that joins two of them checks the ids and names both files when they differ.

Tokens are estimated from the records' UTF-8 size, n_bytes / BYTES_PER_TOKEN: Python source
averages about 3.5 bytes a token under the GPT-2/CodeGen BPE (indentation runs are single
tokens). The estimate scales every count alike, so shares of tokens are shares of bytes.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from matplotlib.figure import Figure

from ..corpus.records import SCHEMA
from ..errors import InputError
from ..io import ParquetWriter, open_parquet, read_json, read_parquet, write_json
from ..progress import progress
from .classifier import load_classifier, save_figure
from .embed import embedder_identity, embedding_matrix

log = logging.getLogger(__name__)

BYTES_PER_TOKEN = 3.5
BATCH_ROWS = 16_384  # rows scored or filtered at a time
SCORE_SCHEMA = pa.schema([("id", pa.string()), ("row", pa.int64()), ("probability", pa.float32())])


def score_shard(embeddings_path: str, model_path: str, out: str) -> dict:
    """The classifier's probability of high educational value for every row of an embeddings parquet."""
    start = time.perf_counter()
    classifier = load_classifier(model_path)
    columns = ["id", "row", "embedding"]
    with open_parquet(embeddings_path, columns) as parquet:
        schema = parquet.schema_arrow
        embedding = schema.field("embedding").type
        fixed = pa.types.is_fixed_size_list(embedding)
        if not fixed or embedding.list_size != classifier.dim:
            found = f"dimension {embedding.list_size}" if fixed else f"type {embedding}"
            raise InputError(embeddings_path, f"embeddings of {found}, but the classifier {model_path} was trained on "
                                              f"dimension {classifier.dim}; embed with the model it was trained on")
        embedder = embedder_identity(schema)
        if embedder and classifier.embedder and embedder != classifier.embedder:
            raise InputError(embeddings_path, f"embedded by {embedder}, but the classifier {model_path} was trained "
                                              f"on embeddings by {classifier.embedder}")
        bar = progress(desc=f"score {Path(embeddings_path).name}", total=parquet.metadata.num_rows, unit="file")
        with ParquetWriter(out, SCORE_SCHEMA) as writer, bar:
            for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=columns):
                probability = classifier.probability(embedding_matrix(batch.column("embedding"), embeddings_path))
                writer.write_table(pa.table({"id": batch.column("id"), "row": batch.column("row"),
                                             "probability": probability}))
                bar.update(batch.num_rows)
    seconds = time.perf_counter() - start
    return {"records": writer.count, "seconds": round(seconds, 3), "files_per_s": round(writer.count / seconds, 1)}


def check_aligned(shard_ids: pa.ChunkedArray, score_ids: pa.ChunkedArray, shard_path: str, scores_path: str) -> None:
    """The scores hold the shard's rows in the shard's order."""
    if len(shard_ids) != len(score_ids):
        raise InputError(scores_path, f"{len(score_ids)} rows, but the shard {shard_path} has {len(shard_ids)}; "
                                      "were they computed from another shard?")
    differ = np.flatnonzero(np.asarray(pc.not_equal(shard_ids, score_ids)))
    if len(differ):
        row = differ[0]
        raise InputError(scores_path, f"row {row} is id {score_ids[row]}, but the shard {shard_path} has "
                                      f"{shard_ids[row]} there ({len(differ)} of {len(shard_ids)} rows differ); "
                                      "were they computed from another shard?")


def retention_curve(probability: np.ndarray, tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each distinct probability p, highest first: p, and the tokens and files that the
    threshold p keeps (probability >= p)."""
    order = np.argsort(-probability, kind="stable")
    ranked = probability[order]
    ends = np.flatnonzero(np.append(ranked[1:] != ranked[:-1], True))  # last row of each distinct value
    return ranked[ends], np.cumsum(tokens[order])[ends], ends + 1


def choose_threshold(scores_paths: list[str], shards_paths: list[str], threshold: float | None,
                     target_token_share: float | None, out: str, plot_out: str) -> dict:
    """The probability threshold of the filter: given, or the one whose retained share of the
    corpus's tokens (highest probabilities first) is closest to `target_token_share`."""
    if (threshold is None) == (target_token_share is None):
        raise ValueError("give exactly one of threshold and target_token_share")
    if threshold is not None and not 0 <= threshold <= 1:
        raise ValueError(f"threshold {threshold} is not a probability")
    if target_token_share is not None and not 0 < target_token_share <= 1:
        raise ValueError(f"target_token_share {target_token_share} is not in (0, 1]")
    if len(scores_paths) != len(shards_paths):
        raise ValueError(f"{len(scores_paths)} score files for {len(shards_paths)} shards")
    probability, tokens = [], []
    for scores_path, shard_path in zip(scores_paths, shards_paths):
        scores = read_parquet(scores_path, columns=["id", "probability"])
        shard = read_parquet(shard_path, columns=["id", "n_bytes"])
        check_aligned(shard.column("id"), scores.column("id"), shard_path, scores_path)
        probability.append(scores.column("probability").to_numpy())
        tokens.append(shard.column("n_bytes").to_numpy() / BYTES_PER_TOKEN)
    probability, tokens = np.concatenate(probability), np.concatenate(tokens)
    if not len(probability):
        raise ValueError("the scored shards hold no records")

    levels, kept_tokens, kept_files = retention_curve(probability, tokens)
    total = tokens.sum()
    if target_token_share is not None:
        threshold = float(levels[np.argmin(np.abs(kept_tokens / total - target_token_share))])
    kept = probability >= threshold
    result = {
        "threshold": threshold,
        "mode": "threshold" if target_token_share is None else "target_token_share",
        "target_token_share": target_token_share,
        "retained_tokens": round(float(tokens[kept].sum())),
        "total_tokens": round(float(total)),
        "retained_share": round(float(tokens[kept].sum() / total), 6),
        "retained_files": int(kept.sum()),
        "total_files": len(probability),
        "bytes_per_token": BYTES_PER_TOKEN,
    }
    plot_retention(levels, kept_tokens / total, kept_files / len(probability), result, plot_out)
    write_json(out, result)
    log.info("threshold %.4f keeps %d of %d files, %.1f%% of ~%d tokens", threshold, result["retained_files"],
             result["total_files"], 100 * result["retained_share"], result["total_tokens"])
    return result


def plot_retention(levels: np.ndarray, token_share: np.ndarray, file_share: np.ndarray, result: dict,
                   path: str | os.PathLike) -> None:
    fig = Figure(figsize=(6, 4))
    ax = fig.subplots()
    # Ascending thresholds: the share at level i holds on (level i-1, level i].
    ax.step(levels[::-1], token_share[::-1], where="pre", label="tokens")
    ax.step(levels[::-1], file_share[::-1], where="pre", label="files", alpha=0.6)
    ax.axvline(result["threshold"], color="grey", linestyle="--",
               label=f"threshold {result['threshold']:.3f}: {100 * result['retained_share']:.1f}% of tokens")
    if result["target_token_share"] is not None:
        ax.axhline(result["target_token_share"], color="grey", linestyle=":", label="target share")
    ax.set(xlabel="probability threshold", ylabel="share retained", xlim=(0, 1), ylim=(0, 1.02),
           title=f"Retained by the quality filter ({result['total_files']} files)")
    ax.legend()
    save_figure(fig, path)


def read_threshold(path: str) -> float:
    data = read_json(path)
    threshold = data.get("threshold") if isinstance(data, dict) else None
    if not isinstance(threshold, (int, float)):
        raise InputError(path, "no numeric 'threshold'")
    return threshold


def filter_shard(shard_path: str, scores_path: str, threshold_json: str, out: str, stats_out: str) -> dict:
    """Write the shard's records whose probability is at least the threshold, in the corpus
    schema; stats: files and estimated tokens in and out, per source and in total."""
    start = time.perf_counter()
    threshold = read_threshold(threshold_json)
    scores = read_parquet(scores_path, columns=["id", "probability"])
    check_aligned(read_parquet(shard_path, columns=["id"]).column("id"), scores.column("id"), shard_path, scores_path)
    keep = scores.column("probability").to_numpy() >= threshold
    tally: defaultdict[str, Counter] = defaultdict(Counter)
    offset = 0
    with open_parquet(shard_path, SCHEMA.names) as parquet, ParquetWriter(out, SCHEMA) as writer:
        for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=SCHEMA.names):
            kept = keep[offset : offset + batch.num_rows]
            writer.write_table(pa.Table.from_batches([batch]).filter(kept))
            sources, sizes = batch.column("source").to_pylist(), batch.column("n_bytes").to_pylist()
            for source, n_bytes, k in zip(sources, sizes, kept.tolist()):
                tally[source].update(files_in=1, bytes_in=n_bytes, files_out=int(k), bytes_out=n_bytes if k else 0)
            offset += batch.num_rows

    def counts(c: Counter) -> dict:
        tokens = {f"tokens_{side}": round(c[f"bytes_{side}"] / BYTES_PER_TOKEN) for side in ("in", "out")}
        return {"files_in": c["files_in"], "files_out": c["files_out"], **tokens}

    stats = {"shard": shard_path, "threshold": threshold, **counts(sum(tally.values(), Counter())),
             "by_source": {source: counts(c) for source, c in sorted(tally.items())},
             "bytes_per_token": BYTES_PER_TOKEN, "seconds": round(time.perf_counter() - start, 3)}
    write_json(stats_out, stats)
    log.info("%s: kept %d of %d files (~%d of ~%d tokens)", shard_path, stats["files_out"], stats["files_in"],
             stats["tokens_out"], stats["tokens_in"])
    return stats


def summarise_filter(shard_stats: list[str], threshold_json: str, out: str) -> dict:
    """The filter's stats for the whole corpus: files and estimated tokens in and out, per source."""
    keys = ("files_in", "files_out", "tokens_in", "tokens_out")
    total: Counter = Counter()
    by_source: defaultdict[str, Counter] = defaultdict(Counter)
    for stats in map(read_json, shard_stats):
        total.update({k: stats[k] for k in keys})
        for source, counts in stats["by_source"].items():
            by_source[source].update({k: counts[k] for k in keys})
    summary = {**{k: total[k] for k in keys}, "by_source": {s: dict(c) for s, c in sorted(by_source.items())},
               "threshold": read_json(threshold_json), "shards": len(shard_stats)}
    write_json(out, summary)
    return summary
