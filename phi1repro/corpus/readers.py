"""Readers of source code: local directory trees and The Stack's parquet dumps.

Both yield records (see `records.py`) and count what they skip in a `collections.Counter`
under the reason's name, so a shard's stats account for every input file or row.
"""

from __future__ import annotations

import collections
import fnmatch
import hashlib
import logging
import os
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ..errors import InputError
from ..io import open_parquet
from .records import make_record

log = logging.getLogger(__name__)

WILDCARDS = frozenset("*?[")
DIRECTORY_GLOB = "**/*.py"
STACK_COLUMNS = [
    "content",
    "ext",
    "max_stars_repo_name",
    "max_stars_repo_path",
    "max_stars_repo_licenses",
    "max_stars_count",
]


def expand_placeholders(pattern: str) -> str:
    """Replace `{stdlib}` with the running interpreter's standard library directory."""
    return pattern.replace("{stdlib}", sysconfig.get_paths()["stdlib"])


def shard_of(relpath: str, num_shards: int) -> int:
    """The shard of a file: a stable hash of its relative path, the same in every process."""
    digest = hashlib.blake2b(os.fsencode(relpath), digest_size=8).digest()
    return int.from_bytes(digest, "big") % num_shards


def list_files(pattern: str, exclude: list[str]) -> list[tuple[Path, str]]:
    """(absolute path, path relative to the pattern's root) of each file `pattern` matches, sorted.

    A pattern without wildcards is a directory and matches every `*.py` below it; a glob's root
    is its leading part before the first component with a wildcard. `exclude` holds fnmatch
    patterns tested against the relative path (their `*` crosses `/`).
    """
    expanded = expand_placeholders(pattern)
    parts = Path(expanded).parts
    first_wild = next((i for i, part in enumerate(parts) if WILDCARDS & set(part)), None)
    if first_wild is None:
        root, glob = Path(expanded), DIRECTORY_GLOB
        if not root.is_dir():
            raise InputError(expanded, "not a directory" if root.exists() else "no such directory")
    else:
        root, glob = Path(*parts[:first_wild]), str(Path(*parts[first_wild:]))
    matches = sorted(p for p in root.glob(glob) if p.is_file())
    if not matches:
        raise InputError(expanded, "matches no file")
    files = [(p.absolute(), p.relative_to(root).as_posix()) for p in matches]
    kept = [(p, rel) for p, rel in files if not any(fnmatch.fnmatchcase(rel, x) for x in exclude)]
    if not kept:
        raise InputError(expanded, f"all {len(files)} matching files are excluded by {exclude}")
    return kept


def read_local(
    patterns: list[str],
    exclude: list[str],
    *,
    source: str,
    shard: int,
    num_shards: int,
    max_bytes: int,
    counts: collections.Counter,
) -> Iterator[dict]:
    """Records of the local files of shard `shard` of `num_shards`.

    Every shard job lists all the patterns itself (a file seen under several patterns counts
    once, under its first), then reads only the files that hash into its shard. Counts, for
    this shard: `files_seen`, `too_large` (over `max_bytes`, not read), `non_utf8` (skipped).
    """
    if not 0 <= shard < num_shards:
        raise ValueError(f"shard {shard} is not in range({num_shards})")
    files, seen = [], set()
    for pattern in patterns:
        for path, rel in list_files(pattern, exclude):
            real = path.resolve()
            if real not in seen:
                seen.add(real)
                if shard_of(rel, num_shards) == shard:
                    files.append((path, rel))

    for path, rel in files:
        counts["files_seen"] += 1
        try:
            if path.stat().st_size > max_bytes:
                counts["too_large"] += 1
                continue
            data = path.read_bytes()
        except OSError as e:
            raise InputError(path, f"cannot read ({e.strerror})") from None
        try:
            text = data.decode("utf-8-sig")  # strips a BOM
        except UnicodeDecodeError as e:
            counts["non_utf8"] += 1
            log.warning("%s: skipped, not UTF-8 (%s at byte %d)", path, e.reason, e.start)
            continue
        yield make_record(text, source=source, origin=str(path), path=rel)


def read_the_stack(
    path: str | os.PathLike,
    *,
    source: str,
    counts: collections.Counter,
    batch_size: int = 1000,
    extensions: list[str] | None = None,
) -> Iterator[dict]:
    """Records of one parquet file in bigcode/the-stack-dedup's layout, read batch by batch.

    Only `content` is required; `ext` too when `extensions` (e.g. `["py"]`) is given. Counts:
    `rows_seen`, `wrong_extension`, `null_content`, `non_utf8` (binary content only).
    """
    required = ["content"] + (["ext"] if extensions is not None else [])
    with open_parquet(path, required) as parquet:
        names = parquet.schema_arrow.names
        columns = [name for name in STACK_COLUMNS if name in names]
        wanted = None if extensions is None else frozenset(extensions)

        for index, row in enumerate(_rows(parquet, path, columns, batch_size)):
            counts["rows_seen"] += 1
            if wanted is not None and row["ext"] not in wanted:
                counts["wrong_extension"] += 1
                continue
            content = row["content"]
            if content is None:
                counts["null_content"] += 1
                continue
            if isinstance(content, bytes):
                try:
                    content = content.decode("utf-8")
                except UnicodeDecodeError:
                    counts["non_utf8"] += 1
                    continue
            repo, repo_path = row.get("max_stars_repo_name"), row.get("max_stars_repo_path")
            stars = row.get("max_stars_count")
            yield make_record(
                content.removeprefix("\ufeff"),
                source=source,
                origin=f"{repo}/{repo_path}" if repo and repo_path else f"{path}#row{index}",
                repo=repo,
                path=repo_path,
                license=", ".join(row.get("max_stars_repo_licenses") or ()) or None,
                stars=None if stars is None else int(stars),
            )


def _rows(parquet: pq.ParquetFile, path, columns: list[str], batch_size: int) -> Iterator[dict]:
    """The rows of `columns`, as dicts, one batch in memory at a time."""
    try:
        for batch in parquet.iter_batches(batch_size=batch_size, columns=columns):
            yield from batch.to_pylist()
    except (pa.ArrowException, OSError) as e:
        raise InputError(path, f"corrupt parquet data ({e})") from None
