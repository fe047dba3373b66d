"""The offline teacher as the workflow serves it: `teacher.base_url: offline` is short for a served
teacher whose command is this package's server, and whose identity is this package's version (a hash
of its code and data files) with the settings that change its answers. Its latency and injected
faults change only how the client works: they are in the command, not in the identity.

The workflow imports this module at parse time; no module of the pipeline does.
"""

from __future__ import annotations

import hashlib
import json
import shlex
from pathlib import Path

PACKAGE = Path(__file__).parent
ANSWER_SETTINGS = ("answer_style", "response_formats", "seed")
SOURCE_SUFFIXES = (".py", ".json", ".toml")
FAULT_FLAGS = {"latency_ms": "--latency-ms", "rate_429": "--rate-429", "rate_500": "--rate-500",
               "rate_drop": "--rate-drop", "rate_malformed": "--rate-malformed"}


def version(package: Path = PACKAGE) -> str:
    """sha256 (12 hex digits) over the names and bytes of the package's code and data files (not caches
    or anything else a tool leaves beside them)."""
    digest = hashlib.sha256()
    files = (p for p in package.rglob("*") if p.suffix in SOURCE_SUFFIXES and p.is_file()
             and not any(part.startswith((".", "__pycache__")) for part in p.relative_to(package).parts))
    for path in sorted(files):
        digest.update(f"{path.relative_to(package).as_posix()}\0".encode() + path.read_bytes())
    return digest.hexdigest()[:12]


def identity(offline: dict) -> str:
    settings = {k: offline[k] for k in ANSWER_SETTINGS}
    return f"offline-teacher {version()} {json.dumps(settings, sort_keys=True, separators=(',', ':'))}"


def serve_command(offline: dict, python: str) -> str:
    args = [python, "-m", __package__, "--port", "{port}", "--seed", str(offline["seed"]),
            "--answer-style", offline["answer_style"], "--response-formats", ",".join(offline["response_formats"])]
    for key, flag in FAULT_FLAGS.items():
        args += [flag, str(offline[key])]
    return shlex.join(args)


def as_served(teacher: dict, python: str) -> dict:
    """The `teacher` config section with base_url 'offline' as the served teacher it stands for; its
    answers cached beside the configured cache, in `<cache>-offline.sqlite`."""
    cache = Path(teacher["cache"])
    return {
        **teacher,
        "base_url": "serve",
        "identity": identity(teacher["offline"]),
        "serve": {**teacher["serve"], "command": serve_command(teacher["offline"], python), "ready_timeout_s": 60,
                  "gpus": 0},
        "cache": str(cache.with_name(f"{cache.stem}-offline{cache.suffix}")),
    }
