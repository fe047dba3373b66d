"""The one record shape every corpus reader produces.

A record is a plain dict (it is written as a JSON line, then as a parquet row):

    id       blake2b-128 hex of the UTF-8 text: identical content has an identical id
    source   the configured source name (e.g. "stdlib", "the_stack", "stackoverflow")
    origin   where it came from: a file path, "repo/path", or a question URL
    repo     repository name, where known (The Stack), else None
    path     path of the file inside its repository or directory, where known, else None
    license  license(s), comma-separated, where known, else None
    stars    repository stars or post score, where known, else None
    text     the content
    n_bytes  UTF-8 size of text
    n_lines  number of lines of text
"""

from __future__ import annotations

import hashlib

import pyarrow as pa

SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("source", pa.string()),
        ("origin", pa.string()),
        ("repo", pa.string()),
        ("path", pa.string()),
        ("license", pa.string()),
        ("stars", pa.int64()),
        ("text", pa.large_string()),
        ("n_bytes", pa.int64()),
        ("n_lines", pa.int64()),
    ]
)


def content_id(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def make_record(
    text: str,
    *,
    source: str,
    origin: str,
    repo: str | None = None,
    path: str | None = None,
    license: str | None = None,
    stars: int | None = None,
) -> dict:
    return {
        "id": content_id(text),
        "source": source,
        "origin": origin,
        "repo": repo,
        "path": path,
        "license": license,
        "stars": stars,
        "text": text,
        "n_bytes": len(text.encode("utf-8", "surrogatepass")),
        "n_lines": text.count("\n") + (not text.endswith("\n") and bool(text)),
    }
