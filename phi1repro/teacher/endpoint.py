"""The teacher endpoint a rule talks to: the configured API, or the offline teacher started for the rule."""

from __future__ import annotations

import contextlib
import hashlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from .client import TeacherConfig

OFFLINE = "offline"


def offline_version() -> str:
    """A hash of the teacher package's code: the offline teacher's answers are a function of it."""
    digest = hashlib.sha256()
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    return digest.hexdigest()[:12]


def cache_path(teacher: dict) -> str:
    """The configured cache, or for the offline teacher a file beside it named by its code
    version, so that offline answers are never served as a real model's, nor as those of a
    changed offline teacher."""
    if teacher["base_url"] != OFFLINE:
        return teacher["cache"]
    p = Path(teacher["cache"])
    return str(p.with_name(f"{p.stem}-offline-{offline_version()}{p.suffix}"))


def client_config(teacher: dict, base_url: str | None = None) -> TeacherConfig:
    """The client settings of the `teacher` config section (base_url: where the server listens)."""
    return TeacherConfig(
        base_url=base_url or teacher["base_url"],
        cache_path=cache_path(teacher),
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
    )


@contextlib.contextmanager
def teacher_endpoint(teacher: dict) -> Iterator[TeacherConfig]:
    """Yield the client config for the `teacher` config section. With base_url 'offline', the
    offline teacher runs in a subprocess on a free loopback port until the block ends, and its
    answers are cached apart from real models' (`<cache>-offline-<code version>.sqlite`)."""
    if teacher["base_url"] != OFFLINE:
        yield client_config(teacher)
        return
    offline = teacher["offline"]
    cmd = [
        sys.executable, "-m", "phi1repro.offline_teacher.server", "--host", "127.0.0.1", "--port", "0",
        "--latency-ms", str(offline["latency_ms"]), "--rate-429", str(offline["rate_429"]),
        "--rate-500", str(offline["rate_500"]), "--rate-drop", str(offline["rate_drop"]),
        "--rate-malformed", str(offline["rate_malformed"]), "--seed", str(offline["seed"]),
        "--answer-style", offline["answer_style"], "--response-formats", ",".join(offline["response_formats"]),
    ]
    server = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline().strip()
        if not line.startswith("listening on "):
            raise RuntimeError(f"the offline teacher did not start (exit code {server.poll()}): {line!r}")
        yield client_config(teacher, line.removeprefix("listening on "))
    finally:
        server.terminate()
        server.wait(timeout=30)
