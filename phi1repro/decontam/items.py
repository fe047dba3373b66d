"""What is compared: benchmark problems, and training items cut into code units.

A benchmark problem is its reference solution (HumanEval: prompt + canonical solution; MBPP:
the code) for the AST measure, and the problem as a training item would show it (HumanEval:
the same; MBPP: the description, then the code) for n-grams and embeddings.

A training item is read whole for n-grams and cut into code units for the AST and embedding
measures, so that a benchmark function copied into a long file or a textbook section is
compared with that function alone:
- kind "code" (exercises, source files): every function definition, at any depth; and, unless
  the module is one function alone, the module itself without its imports (as problems are
  compared: a solution with a helper function or a module-level constant is matched whole).
- kind "markdown" (textbooks): the same, in every fenced python block (```python, ```py or
  an unlabelled fence); blocks of other languages are prose.
Code that does not parse yields no unit and is counted (or, by config, is an error).
"""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from ..benchmark_files import mbpp_split, read_benchmark, read_records
from ..errors import InputError
from ..io import open_parquet
from .measures import NgramIndex, encode, is_docstring, tree_sequence

KINDS = ("code", "markdown")
FENCE = re.compile(r"^[ \t]*```[ \t]*([\w+-]*)")
PYTHON_FENCES = ("", "python", "python3", "py")


@dataclass(frozen=True)
class Problem:
    benchmark: str
    task_id: str
    code: str  # the reference solution
    text: str  # the problem as a training item would show it


def problems_of(path: str | Path, mbpp_splits: list[str] | None = None) -> list[Problem]:
    """The problems of a prepared benchmark file (HumanEval or MBPP format, told by its fields),
    named after the file; MBPP keeps only `mbpp_splits` when given."""
    name = Path(path).name.removesuffix(".gz").removesuffix(".jsonl")
    problems = []
    for lineno, record in enumerate(read_benchmark(path), 1):
        if "prompt" in record and "canonical_solution" in record:
            code = record["prompt"] + record["canonical_solution"]
            problems.append(Problem(name, str(record["task_id"]), code, code))
        elif "code" in record and "text" in record:
            if mbpp_splits and (record.get("split") or mbpp_split(record["task_id"])) not in mbpp_splits:
                continue
            problems.append(Problem(name, str(record["task_id"]), record["code"],
                                    f"{record['text']}\n{record['code']}"))
        else:
            raise InputError(path, f"line {lineno}: neither a HumanEval problem (prompt, canonical_solution) "
                                   "nor an MBPP one (text, code)")
    return problems


def parse(code: str) -> ast.Module:
    """ast.parse, quiet about invalid escapes like '\\w' (MBPP's code has them); raises SyntaxError
    or ValueError (null bytes)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        return ast.parse(code)


def problem_sequence(code: str) -> np.ndarray | None:
    """The encoded AST of a reference solution without its top-level imports (a training unit
    is a function alone); None if it does not parse."""
    try:
        tree = parse(code)
    except (SyntaxError, ValueError):
        return None
    tree.body = _without_imports(tree.body)
    return encode(tree_sequence(tree))


def _without_imports(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements without imports and without a leading docstring."""
    body = body[1:] if body and is_docstring(body[0]) else body
    return [s for s in body if not isinstance(s, (ast.Import, ast.ImportFrom))]


# ----------------------------------------------------------------------------- training items


@dataclass
class ItemFeatures:
    """One training item: its code units (source and encoded AST), how many of its code blocks
    did not parse, and its n-gram overlap with each benchmark problem it shares n-grams with."""

    units: list[str] = field(default_factory=list)
    sequences: list[np.ndarray] = field(default_factory=list)
    unparseable: int = 0
    first_error: str | None = None
    ngram: dict[int, float] = field(default_factory=dict)


def _add_units(code: str, features: ItemFeatures) -> None:
    try:
        tree = parse(code)
    except (SyntaxError, ValueError) as e:
        features.unparseable += 1
        if features.first_error is None:
            features.first_error = f"{getattr(e, 'msg', e)}, line {getattr(e, 'lineno', '?')}"
        return
    functions = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    lines = code.splitlines(keepends=True)
    for node in functions:
        features.units.append("".join(lines[node.lineno - 1 : node.end_lineno]))
        features.sequences.append(encode(["Module", *tree_sequence(node)]))
    tree.body = _without_imports(tree.body)
    if tree.body != functions[:1]:  # more than one function alone: the module too, as problems are compared
        features.units.append(code)
        features.sequences.append(encode(tree_sequence(tree)))


def python_blocks(markdown: str) -> list[str]:
    """The contents of the fenced python blocks of a markdown text (an unclosed block runs to the end)."""
    blocks, language, lines = [], None, []
    for line in markdown.splitlines(keepends=True):
        fence = FENCE.match(line)
        if language is None and fence:
            language, lines = fence.group(1).lower(), []
        elif language is not None and fence and not fence.group(1):
            if language in PYTHON_FENCES:
                blocks.append("".join(lines))
            language = None
        elif language is not None:
            lines.append(line)
    if language in PYTHON_FENCES:
        blocks.append("".join(lines))
    return blocks


def item_features(text: str, kind: str, ngrams: NgramIndex | None) -> ItemFeatures:
    features = ItemFeatures()
    blocks = python_blocks(text) if kind == "markdown" else [text]
    for block in blocks:
        _add_units(block, features)
    if ngrams is not None:
        features.ngram = ngrams.matches(text)
    return features


# A worker process's n-gram index and item kind, set once by `init_worker`.
_worker_state: dict = {}


def init_worker(kind: str, ngrams: NgramIndex | None) -> None:
    _worker_state.update(kind=kind, ngrams=ngrams)


def worker_features(text: str | None) -> ItemFeatures:
    return item_features(text or "", _worker_state["kind"], _worker_state["ngrams"])


# ----------------------------------------------------------------------------- reading items


def read_items(path: str | Path, text_column: str, id_column: str | None) -> tuple[list[str], list[str | None]]:
    """ids and texts of a parquet or JSON-lines file (ids are row numbers without `id_column`)."""
    path = Path(path)
    columns = [text_column] + ([id_column] if id_column else [])
    if path.suffix == ".parquet":
        with open_parquet(path, columns) as parquet:
            table = parquet.read(columns=columns)
    elif path.name.endswith((".jsonl", ".jsonl.gz", ".json")):
        table = _read_jsonl(path, columns)
    else:
        raise InputError(path, "not a .parquet or .jsonl file")
    texts = table.column(text_column)
    if not (pa.types.is_string(texts.type) or pa.types.is_large_string(texts.type)):
        raise InputError(path, f"column {text_column!r} is {texts.type}, not text")
    ids = table.column(id_column).cast(pa.string()).to_pylist() if id_column else list(map(str, range(len(texts))))
    return ids, texts.to_pylist()


def _read_jsonl(path: Path, columns: list[str]) -> pa.Table:
    rows = []
    for lineno, record in enumerate(read_records(path, str(path)), 1):
        missing = [c for c in columns if c not in record]
        if missing:
            raise InputError(path, f"record {lineno} has no field {', '.join(map(repr, missing))}")
        rows.append({c: record[c] for c in columns})
    if not rows:
        return pa.table({c: pa.array([], pa.string()) for c in columns})
    try:
        return pa.Table.from_pylist(rows)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
        raise InputError(path, f"fields {', '.join(map(repr, columns))} have mixed types ({e})") from None
