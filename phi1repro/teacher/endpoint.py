"""The teacher a rule talks to: an API, a server the job starts itself (teacher.serve), or the offline
teacher, which the workflow turns into a served one (see rules/common.smk).

Which teacher answers is part of every teacher-fed rule's identity: `teacher.identity`, filled in by
the workflow, is a param of those rules and the namespace of their answers in the cache. How the client
connects (concurrency, rate limits, retries, timeouts, batch polling) is read here, from the config,
and reruns nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from .client import TeacherConfig
from .serve import served

OFFLINE = "offline"
SERVE = "serve"


def identity(teacher: dict) -> str:
    """The configured teacher's name: `identity` where given, else its endpoint or serve command."""
    return teacher["identity"] or (teacher["serve"]["command"] if teacher["base_url"] == SERVE else teacher["base_url"])


def client_config(teacher: dict, base_url: str | None = None) -> TeacherConfig:
    """The client settings of the `teacher` config section (base_url: where the server listens)."""
    return TeacherConfig(
        base_url=base_url or teacher["base_url"],
        cache_path=teacher["cache"],
        api_key_env=teacher["api_key_env"],
        max_concurrency=teacher["max_concurrency"],
        rpm=teacher["rpm"],
        tpm=teacher["tpm"],
        max_retries=teacher["max_retries"],
        timeout_s=teacher["timeout_s"],
        backoff_s=teacher["backoff_s"],
        budget_usd=teacher["budget_usd"],
        prices=teacher["prices"],
        batch_poll_s=teacher["batch_poll_s"],
        teacher=identity(teacher),
    )


@contextlib.contextmanager
def teacher_endpoint(teacher: dict, server_log: str | Path | None = None) -> Iterator[TeacherConfig]:
    """Yield the client config for the `teacher` config section. With base_url 'serve', the serve command
    runs until the block ends, its output in `server_log`."""
    if teacher["base_url"] == OFFLINE:
        raise ValueError("base_url 'offline' is resolved by the workflow into a served teacher (rules/common.smk)")
    if teacher["base_url"] != SERVE:
        yield client_config(teacher)
        return
    with served(teacher["serve"], server_log or Path(teacher["cache"]).with_suffix(".server.log")) as base_url:
        yield client_config(teacher, base_url)
