"""The offline teacher's literal material (word lists, voices, example scripts), read from its data/ folder.

Tables are JSON, except those of scripts: TOML, whose multi-line strings show a script as it runs.
"""

from __future__ import annotations

import json
import tomllib
from functools import cache
from importlib.resources import files
from typing import Any


@cache
def table(name: str) -> dict[str, Any]:
    """The file data/<name> (.json or .toml), parsed once per process."""
    text = files(__package__).joinpath("data", name).read_text(encoding="utf-8")
    return tomllib.loads(text) if name.endswith(".toml") else json.loads(text)
