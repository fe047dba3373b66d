"""The teacher's persistent state: a content-addressed response cache and a usage ledger.

One SQLite file in WAL mode, shared by every stage and by parallel jobs (several processes may
write at once; a writer waits up to BUSY_TIMEOUT_S for the lock). Each write commits on its
own, or in one `transaction()`, so a killed job loses only what was in flight.

    responses  key -> the response body returned for a request (the cache)
    ledger     one row per PAID request (cache hits are free and not recorded)
    batches    Batch API jobs by group key, so that a rerun resumes polling instead of paying twice
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

BUSY_TIMEOUT_S = 60.0
_IN_CHUNK = 900  # keys per `IN (...)` query, under SQLite's oldest variable limit (999)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY, model TEXT NOT NULL, request TEXT NOT NULL, response TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS ledger (
    id INTEGER PRIMARY KEY, stage TEXT NOT NULL, model TEXT NOT NULL, key TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, cost_usd REAL NOT NULL,
    created_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS ledger_stage ON ledger (stage);
CREATE TABLE IF NOT EXISTS batches (
    group_key TEXT PRIMARY KEY, batch_id TEXT NOT NULL, input_file_id TEXT NOT NULL, status TEXT NOT NULL,
    created_at REAL NOT NULL, updated_at REAL NOT NULL);
"""


def canonical_json(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def request_key(model: str, messages: list[dict], params: dict) -> str:
    """sha256 hex of the canonical JSON of a request; parameters set to None are dropped."""
    params = {k: v for k, v in params.items() if v is not None}
    return hashlib.sha256(canonical_json({"model": model, "messages": messages, "params": params}).encode()).hexdigest()


class TeacherCache:
    """Responses by request key, the usage ledger and Batch API jobs, in one SQLite file.

    `teacher` names the teacher whose answers these are (teacher.identity): the same request asked of
    another teacher is another entry, so that one server's answers are never served as another's.
    """

    def __init__(self, path: str | os.PathLike, teacher: str = ""):
        self.path = Path(path)
        self.teacher = teacher
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: autocommit, each statement commits unless inside transaction();
        # timeout: SQLite's busy_timeout, how long a writer waits for another process's lock
        self._db = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_S)
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")  # in WAL mode: durable against a killed process
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> TeacherCache:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes into one commit (all or nothing)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _stored(self, key: str) -> str:
        """The key under which this teacher's answer to request `key` is stored."""
        return hashlib.sha256(f"{self.teacher}\0{key}".encode()).hexdigest() if self.teacher else key

    def get(self, key: str) -> dict | None:
        """The cached response body for `key`, or None."""
        row = self._db.execute("SELECT response FROM responses WHERE key = ?", (self._stored(key),)).fetchone()
        return json.loads(row[0]) if row else None

    def get_many(self, keys: Iterable[str]) -> dict[str, dict]:
        """The cached response bodies among `keys`."""
        stored = {self._stored(k): k for k in keys}
        found, keys = {}, list(stored)
        for i in range(0, len(keys), _IN_CHUNK):
            chunk = keys[i : i + _IN_CHUNK]
            query = f"SELECT key, response FROM responses WHERE key IN ({','.join('?' * len(chunk))})"
            found.update((stored[k], json.loads(r)) for k, r in self._db.execute(query, chunk))
        return found

    def put(self, key: str, model: str, request: dict, response: dict, usage: dict) -> None:
        """Store a response body; the first one stored for a key is kept."""
        self._db.execute(
            "INSERT OR IGNORE INTO responses VALUES (?, ?, ?, ?, ?, ?, ?)",
            (self._stored(key), model, canonical_json(request), canonical_json(response),
             usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0), time.time()),
        )

    def record_usage(self, stage: str, model: str, key: str, prompt_tokens: int, completion_tokens: int,
                     cost_usd: float) -> None:
        """Add a paid request to the ledger."""
        self._db.execute(
            "INSERT INTO ledger (stage, model, key, prompt_tokens, completion_tokens, cost_usd, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (stage, model, key, prompt_tokens, completion_tokens, cost_usd, time.time()),
        )

    def spent(self, stage: str | None = None) -> dict:
        """Ledger totals {requests, prompt_tokens, completion_tokens, tokens, usd}, for one stage or all."""
        where, args = ("WHERE stage = ?", (stage,)) if stage is not None else ("", ())
        n, pt, ct, usd = self._db.execute(
            "SELECT COUNT(*), TOTAL(prompt_tokens), TOTAL(completion_tokens), TOTAL(cost_usd) FROM ledger " + where,
            args,
        ).fetchone()
        return {"requests": n, "prompt_tokens": int(pt), "completion_tokens": int(ct), "tokens": int(pt + ct),
                "usd": usd}

    def batch(self, group_key: str) -> dict | None:
        """The Batch API job saved under `group_key`: {batch_id, input_file_id, status, created_at, updated_at}."""
        row = self._db.execute(
            "SELECT batch_id, input_file_id, status, created_at, updated_at FROM batches WHERE group_key = ?",
            (self._stored(group_key),),
        ).fetchone()
        return dict(zip(("batch_id", "input_file_id", "status", "created_at", "updated_at"), row)) if row else None

    def save_batch(self, group_key: str, batch_id: str, input_file_id: str, status: str) -> None:
        """Record (or update) the Batch API job of a group."""
        now = time.time()
        self._db.execute(
            "INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (group_key) DO UPDATE SET"
            " batch_id = excluded.batch_id, input_file_id = excluded.input_file_id, status = excluded.status,"
            " updated_at = excluded.updated_at",
            (self._stored(group_key), batch_id, input_file_id, status, now, now),
        )

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
