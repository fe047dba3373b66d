"""Exact and near-duplicate removal across all shards, in three steps that parallelise:

1. `signature_table` per shard: for each record, a hash of its whitespace-normalised text
   (exact duplicates) and the LSH band keys of its MinHash signature (near duplicates).
2. `find_duplicates` once: records sharing an exact hash or any band key are joined into
   clusters (connected components); the first member in corpus order is kept.
3. `drop_duplicates` per shard: stream the shard and drop the rows step 2 marked.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .minhash import MinHasher, band_keys, optimal_bands

DUPLICATES_SCHEMA = pa.schema(
    [
        ("shard", pa.string()),
        ("row", pa.int64()),
        ("id", pa.string()),
        ("cluster", pa.int64()),
        ("cluster_size", pa.int64()),
        ("keep", pa.bool_()),
        ("reason", pa.string()),
    ]
)


@dataclass(frozen=True)
class DedupConfig:
    ngram: int = 5
    num_perm: int = 256
    threshold: float = 0.7
    seed: int = 42

    @property
    def bands(self) -> tuple[int, int]:
        return optimal_bands(self.threshold, self.num_perm)


def exact_hash(text: str) -> int:
    """64-bit hash of the text with all whitespace runs folded to one space."""
    normalised = " ".join(text.split()).encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(normalised, digest_size=8).digest(), "little")


def signature_schema(bands: int) -> pa.Schema:
    return pa.schema(
        [
            ("shard", pa.string()),
            ("row", pa.int64()),
            ("id", pa.string()),
            ("exact", pa.uint64()),
            ("bands", pa.list_(pa.uint64(), bands)),
        ]
    )


def signature_table(records: Iterable[dict], shard: str, cfg: DedupConfig) -> pa.Table:
    hasher = MinHasher(cfg.num_perm, cfg.ngram, cfg.seed)
    ids, exact, signatures = [], [], []
    for record in records:
        ids.append(record["id"])
        exact.append(exact_hash(record["text"]))
        signatures.append(hasher.signature(record["text"]))
    bands, rows = cfg.bands
    keys = band_keys(np.stack(signatures), bands, rows) if signatures else np.empty((0, bands), np.uint64)
    return pa.table(
        {
            "shard": pa.array([shard] * len(ids), pa.string()),
            "row": pa.array(np.arange(len(ids), dtype=np.int64)),
            "id": pa.array(ids, pa.string()),
            "exact": pa.array(np.asarray(exact, dtype=np.uint64)),
            "bands": pa.FixedSizeListArray.from_arrays(pa.array(keys.ravel()), bands),
        },
        schema=signature_schema(bands),
    )


def _star_edges(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edges joining every record to the first record with the same key (in sorted order)."""
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    new_run = np.r_[True, sorted_keys[1:] != sorted_keys[:-1]]
    leader = order[np.flatnonzero(new_run)][np.cumsum(new_run) - 1]
    linked = leader != order
    return leader[linked], order[linked]


def _first_member(labels: np.ndarray, n_labels: int) -> np.ndarray:
    """For each label, the smallest record index carrying it."""
    first = np.full(n_labels, len(labels), dtype=np.int64)
    np.minimum.at(first, labels, np.arange(len(labels)))
    return first


def find_duplicates(signatures: pa.Table) -> tuple[pa.Table, dict]:
    """Cluster records by exact hash and LSH band keys; return the rows of every cluster with
    more than one member (which to keep, and why the others go) and cluster statistics."""
    n = signatures.num_rows
    exact = signatures.column("exact").to_numpy()
    width = signatures.schema.field("bands").type.list_size
    bands = pc.list_flatten(signatures.column("bands")).to_numpy().reshape(n, width)

    edges = [_star_edges(exact)] + [_star_edges(bands[:, b]) for b in range(width)]
    src = np.concatenate([e[0] for e in edges])
    dst = np.concatenate([e[1] for e in edges])
    graph = coo_matrix((np.ones(len(src), dtype=np.int8), (src, dst)), shape=(n, n))
    n_clusters, labels = connected_components(graph, directed=False)

    index = np.arange(n)
    cluster = _first_member(labels, n_clusters)[labels]
    size = np.bincount(labels, minlength=n_clusters)[labels]
    _, exact_group = np.unique(exact, return_inverse=True)
    exact_first = _first_member(exact_group, exact_group.max() + 1 if n else 0)[exact_group]
    keep = index == cluster
    reason = np.where(keep, "", np.where(index != exact_first, "exact_duplicate", "near_duplicate"))

    in_cluster = size > 1
    duplicates = pa.table(
        {
            "shard": signatures.column("shard").filter(pa.array(in_cluster)),
            "row": signatures.column("row").filter(pa.array(in_cluster)),
            "id": signatures.column("id").filter(pa.array(in_cluster)),
            "cluster": cluster[in_cluster],
            "cluster_size": size[in_cluster],
            "keep": keep[in_cluster],
            "reason": reason[in_cluster],
        },
        schema=DUPLICATES_SCHEMA,
    )
    cluster_sizes = np.bincount(labels)
    dropped = Counter(reason[~keep].tolist())
    stats = {
        "records": int(n),
        "records_kept": int(keep.sum()),
        "dropped": dict(sorted(dropped.items())),
        "duplicate_clusters": int((cluster_sizes > 1).sum()),
        "records_in_duplicate_clusters": int(in_cluster.sum()),
        "cluster_size_histogram": {
            str(s): int(c) for s, c in enumerate(np.bincount(cluster_sizes)) if s > 1 and c
        },
        "largest_cluster": int(cluster_sizes.max()) if n else 0,
    }
    return duplicates, stats


def drop_duplicates(records: Iterable[dict], rows_to_drop: dict[int, str], dropped: Counter) -> Iterator[dict]:
    """Yield the records whose row number is not in `rows_to_drop` (row -> reason)."""
    for row, record in enumerate(records):
        reason = rows_to_drop.get(row)
        if reason:
            dropped[reason] += 1
        else:
            yield record
