"""File formats of the build: atomic outputs, JSON lines + zstandard, parquet + zstd, stats JSON, and
the sha256 that identifies a file.

Every writer writes to a temporary name beside the target and renames it on success, so a
killed job never leaves a file that looks complete.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

from .errors import InputError

ZSTD_LEVEL = 3
READ_CHUNK = 1 << 20


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def file_sha256(path: str | os.PathLike) -> str:
    """The sha256 hex digest of a file's bytes, read in blocks."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def write_json(path: str | os.PathLike, obj) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")


def read_json(path: str | os.PathLike):
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(path, f"not valid JSON ({e})") from None


class JsonlZstWriter:
    """Stream records as JSON lines into one zstandard frame, atomically.

    >>> with JsonlZstWriter("out.jsonl.zst") as w:
    ...     w.write({"id": "a"})
    """

    def __init__(self, path: str | os.PathLike, level: int = ZSTD_LEVEL):
        self.path = Path(path)
        self.level = level
        self.count = 0
        self.bytes_in = 0

    def __enter__(self) -> JsonlZstWriter:
        self._atomic = atomic_path(self.path)
        tmp = self._atomic.__enter__()
        self._file = open(tmp, "wb")
        self._stream = zstandard.ZstdCompressor(level=self.level).stream_writer(self._file, closefd=False)
        return self

    def write(self, record: dict) -> None:
        line = json.dumps(record, ensure_ascii=False).encode() + b"\n"
        self._stream.write(line)
        self.count += 1
        self.bytes_in += len(line)

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self._stream.close()  # ends the frame
            self._file.close()
        finally:
            self._atomic.__exit__(exc_type, exc, tb)


def iter_jsonl_zst(path: str | os.PathLike) -> Iterator[dict]:
    """Stream records from a JSON-lines zstandard file; a truncated or corrupt file is an error.

    zstandard's stream reader returns a truncated frame's data without complaint, so frames are
    decoded here and a frame that never ends is reported.
    """
    dctx = zstandard.ZstdDecompressor()
    dobj, in_frame = dctx.decompressobj(), False
    tail, lineno = b"", 0
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    with fh:
        while chunk := fh.read(READ_CHUNK):
            out = []
            while chunk:
                try:
                    out.append(dobj.decompress(chunk))
                except zstandard.ZstdError as e:
                    raise InputError(path, f"corrupt zstandard data ({e})") from None
                in_frame, chunk = not dobj.eof, b""
                if dobj.eof:
                    chunk = dobj.unused_data
                    dobj = dctx.decompressobj()
            lines = (tail + b"".join(out)).split(b"\n")
            tail = lines.pop()
            for line in lines:
                lineno += 1
                yield _parse_line(path, lineno, line)
    if in_frame:
        raise InputError(path, "truncated zstandard stream (the frame does not end; was the writer killed?)")
    if tail.strip():
        yield _parse_line(path, lineno + 1, tail)


def _parse_line(path, lineno: int, line: bytes) -> dict:
    try:
        return json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(path, f"line {lineno}: not valid JSON ({e})") from None


class ParquetWriter:
    """Write record batches to a zstd-compressed parquet file, atomically, in row groups."""

    def __init__(self, path: str | os.PathLike, schema: pa.Schema, rows_per_group: int = 10_000):
        self.path = Path(path)
        self.schema = schema
        self.rows_per_group = rows_per_group
        self.count = 0
        self._rows: list[dict] = []

    def __enter__(self) -> ParquetWriter:
        self._atomic = atomic_path(self.path)
        tmp = self._atomic.__enter__()
        self._writer = pq.ParquetWriter(tmp, self.schema, compression="zstd")
        return self

    def write(self, record: dict) -> None:
        self._rows.append(record)
        if len(self._rows) >= self.rows_per_group:
            self._flush()

    def write_table(self, table: pa.Table) -> None:
        self._flush()
        self._writer.write_table(table.select(self.schema.names).cast(self.schema))
        self.count += table.num_rows

    def _flush(self) -> None:
        if self._rows:
            self._writer.write_table(pa.Table.from_pylist(self._rows, schema=self.schema))
            self.count += len(self._rows)
            self._rows = []

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self._flush()
            self._writer.close()
        finally:
            self._atomic.__exit__(exc_type, exc, tb)


def write_parquet(path: str | os.PathLike, records: Iterable[dict], schema: pa.Schema) -> int:
    with ParquetWriter(path, schema) as w:
        for r in records:
            w.write(r)
    return w.count


def read_parquet(path: str | os.PathLike, **kwargs) -> pa.Table:
    """Read a parquet file; a missing or corrupt file is an error naming it."""
    try:
        return pq.read_table(path, **kwargs)
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except (pa.ArrowInvalid, OSError) as e:
        raise InputError(path, f"not a readable parquet file ({e})") from None


def open_parquet(path: str | os.PathLike, columns: list[str]) -> pq.ParquetFile:
    """A parquet file to stream, checked to be readable and to have `columns`."""
    try:
        parquet = pq.ParquetFile(path)
    except FileNotFoundError:
        raise InputError(path, "file not found") from None
    except (pa.ArrowException, OSError) as e:
        raise InputError(path, f"not a readable parquet file ({e})") from None
    names = parquet.schema_arrow.names
    missing = [c for c in columns if c not in names]
    if missing:
        raise InputError(path, f"no column {', '.join(map(repr, missing))} (columns found: {', '.join(names)})")
    return parquet
