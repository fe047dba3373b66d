"""Running example code in this process: what an example may use, and what it prints.

The textbook generator shows no output it has not seen: every example is run here, and kept only if
it runs, prints the same text on two runs (no addresses, no set order that depends on string hashing)
and prints little enough to show. Documentation examples may import only SAFE_MODULES, none of which
opens windows, files, sockets or subprocesses, and may not use FORBIDDEN_NAMES.
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
from typing import Any

SAFE_MODULES = (
    "abc", "array", "base64", "binascii", "bisect", "calendar", "cmath", "collections", "colorsys", "contextlib",
    "copy", "csv", "dataclasses", "datetime", "decimal", "difflib", "doctest", "enum", "fnmatch", "fractions",
    "functools", "graphlib", "hashlib", "heapq", "html", "io", "ipaddress", "itertools", "json", "keyword", "math",
    "numbers", "operator", "pathlib", "pprint", "queue", "random", "re", "reprlib", "shlex", "statistics", "string",
    "struct", "textwrap", "types", "typing", "unicodedata", "unittest", "urllib.parse", "weakref", "zlib",
)
"""The only modules whose docstrings are read and whose names examples may import: pure, no I/O on import or use."""
FORBIDDEN_NAMES = frozenset({
    "__import__", "breakpoint", "compile", "eval", "exec", "exit", "globals", "hash", "help", "id", "input",
    "locals", "open", "quit", "vars", "os", "sys",
})
"""Names that disqualify a documentation example: I/O, introspection of the process, or per-process values."""
MAX_OUTPUT_LINES = 14
MAX_LINE_CHARS = 100
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}| object at ")


class Unstable(Exception):
    """An example printed a set whose order depends on string hashing, which differs between processes."""


def _hash_stable(value: Any) -> bool:
    """True if `value`'s hash is the same in every process (numbers, None, and tuples of those)."""
    if value is None or isinstance(value, (int, float, complex)):
        return True
    return isinstance(value, (tuple, frozenset)) and all(map(_hash_stable, value))


def _prints_stably(value: Any, depth: int = 0) -> bool:
    """True if printing `value` gives the same text in every process (sets iterate in hash order)."""
    if depth > 6:
        return True
    if isinstance(value, (set, frozenset)):
        return len(value) < 2 or all(map(_hash_stable, value))
    if isinstance(value, dict):
        return all(_prints_stably(k, depth + 1) and _prints_stably(v, depth + 1) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_prints_stably(v, depth + 1) for v in value)
    return True


class Sandbox:
    """Runs example code in a fresh namespace of this process and captures what it prints."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {"__name__": "__main__", "print": self._print}

    @staticmethod
    def _print(*args: Any, **kwargs: Any) -> None:
        if not all(map(_prints_stably, args)):
            raise Unstable
        print(*args, **kwargs)

    def run(self, source: str) -> str:
        """Execute `source`; return what it printed. Raises whatever the code raises."""
        with contextlib.redirect_stdout(io.StringIO()) as out:
            exec(compile(source, "<example>", "exec", dont_inherit=True), self.namespace)
        return out.getvalue()

    def echo(self, expression: str) -> tuple[str, bool]:
        """Evaluate `expression`: (what the interactive prompt would show, as doctest expects; whether that
        includes the expression's value, i.e. it is not None)."""
        with contextlib.redirect_stdout(io.StringIO()) as out:
            value = eval(compile(expression, "<example>", "eval", dont_inherit=True), self.namespace)
        if value is None:
            return out.getvalue(), False
        if not _prints_stably(value):
            raise Unstable
        return out.getvalue() + repr(value) + "\n", True


def run_script(code: str) -> str | None:
    """What `code` prints when run as a script (maybe ''), or None if it fails, prints something that depends on
    the process, or prints too much to show. Runs twice to make sure the output repeats."""
    try:
        outputs = {Sandbox().run(code) for _ in range(2)}
    except Exception:  # any failure disqualifies the example (Unstable included)
        return None
    output = outputs.pop()
    lines = output.splitlines()
    if outputs or len(lines) > MAX_OUTPUT_LINES or "```" in output:
        return None
    if _ADDRESS.search(output) or any(len(line) > MAX_LINE_CHARS for line in lines):
        return None
    return output


def safe_module(name: str) -> bool:
    return any(name == m or name.startswith(m + ".") for m in SAFE_MODULES)


def names_read_and_bound(tree: ast.AST) -> tuple[set[str], set[str]]:
    """(names read, names bound) anywhere in `tree`."""
    read: set[str] = set()
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).partition(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
    return read, bound


def acceptable(tree: ast.AST) -> bool:
    """No forbidden names, and imports only of SAFE_MODULES."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            return False
        if isinstance(node, ast.Import) and not all(safe_module(a.name) for a in node.names):
            return False
        if isinstance(node, ast.ImportFrom) and not (node.level == 0 and node.module and safe_module(node.module)):
            return False
    return True
