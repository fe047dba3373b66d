"""The validation set of real code: corpus files held out of every training dataset, the tokenizer
and the annotation sample, and the prompt/target pairs cut from their functions.

The split is drawn per record from sha256 of the seed and the record's id (the same on every run
and machine) after deduplication, so no exact or near copy of a held-out file stays in training.

A pair is a documented function in HumanEval's format: the prompt is its decorators, signature and
docstring, the canonical solution the statements after the docstring, both exactly as in the file,
so that prompt + canonical_solution is the function's source. Functions at the top of a module and
the methods of its top-level classes are taken (methods dedented by their class body's
indentation: most of a library's documented code is methods); nested functions stay part of the
function they are in.
"""

from __future__ import annotations

import ast
import hashlib
import heapq
import io
import re
import warnings
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
TASK_PREFIX = "RealCode"


def seeded_draw(seed: int, key: str) -> float:
    """A number in [0, 1) from sha256 of the seed and the key: the same on every run and machine."""
    digest = hashlib.sha256(f"{seed}:{key}".encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def is_held_out(record_id: str, share: float, seed: int) -> bool:
    """Whether a corpus record belongs to the validation set (a `share` of the records)."""
    return seeded_draw(seed, record_id) < share


# ----------------------------------------------------------------------------- pairs


@dataclass(frozen=True)
class Pair:
    name: str
    prompt: str
    solution: str
    line: int  # where the function (its first decorator) starts in the file


def source_lines(text: str) -> list[str]:
    """The lines of a text as the parser numbers them: \\n, \\r\\n and \\r end a line, a form feed does not."""
    return io.StringIO(text, newline="").readlines()


def parse_module(text: str) -> ast.Module | None:
    """The module's syntax tree, or None when it does not parse (Python 2, null bytes, nesting too deep)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escapes and the like: they parse
        try:
            return ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None


def top_level_functions(module: ast.Module) -> Iterator[tuple[ast.FunctionDef | ast.AsyncFunctionDef, bool]]:
    """The module's functions and the methods of its classes, in source order, each with whether it is a method."""
    for node in module.body:
        if isinstance(node, FUNCTIONS):
            yield node, False
        elif isinstance(node, ast.ClassDef):
            yield from ((child, True) for child in node.body if isinstance(child, FUNCTIONS))


def dedented(lines: list[str]) -> list[str] | None:
    """The lines without the first line's indentation; None when a line that is not blank lacks it
    (a string literal or a continuation further left)."""
    indent = re.match(r"[ \t]*", lines[0])[0]
    out = []
    for line in lines:
        if line.startswith(indent):
            out.append(line[len(indent):])
        elif not line.strip():
            out.append(line.lstrip(" \t\x0c"))
        else:
            return None
    return out


def function_pair(function: ast.FunctionDef | ast.AsyncFunctionDef, lines: list[str], skipped: Counter) -> Pair | None:
    """The function as a prompt (up to its docstring's last line) and a solution (the rest), or None
    with the reason counted in `skipped`."""
    body = function.body
    if ast.get_docstring(function, clean=False) is None:
        skipped["no_docstring"] += 1
        return None
    if len(body) < 2:
        skipped["docstring_only"] += 1
        return None
    if body[1].lineno <= body[0].end_lineno:
        skipped["body_on_docstring_line"] += 1
        return None
    first = min([function.lineno] + [decorator.lineno for decorator in function.decorator_list])
    source = dedented(lines[first - 1:function.end_lineno])
    if source is None:
        skipped["not_dedentable"] += 1
        return None
    if not _one_function(source):
        skipped["not_parseable_alone"] += 1
        return None
    cut = body[0].end_lineno - first + 1
    return Pair(function.name, "".join(source[:cut]), "".join(source[cut:]), first)


def _one_function(source: list[str]) -> bool:
    """Whether the lines parse alone as one function (a check on the cut: a decorator split from its '@',
    say)."""
    module = parse_module("".join(source))
    return module is not None and len(module.body) == 1 and isinstance(module.body[0], FUNCTIONS)


def file_pairs(text: str, counts: Counter, skipped: Counter) -> list[Pair]:
    """The pairs of one file; counts files, unparseable files, functions and methods seen, and the skipped
    ones by reason."""
    counts["files"] += 1
    module = parse_module(text)
    if module is None:
        counts["unparseable_files"] += 1
        return []
    lines = source_lines(text)
    pairs = []
    for function, method in top_level_functions(module):
        counts["methods" if method else "functions"] += 1
        pair = function_pair(function, lines, skipped)
        if pair is not None:
            pairs.append(pair)
    return pairs


def sample_problems(candidates: Iterable[tuple[str, str, Pair]], max_pairs: int, seed: int) -> list[dict]:
    """At most `max_pairs` of the (record id, origin, pair) candidates, as HumanEval problems: those with the
    smallest seeded draws (holding `max_pairs` at a time), numbered in corpus order."""
    ranked = ((seeded_draw(seed, f"{record_id}:{pair.line}"), position, origin, pair)
              for position, (record_id, origin, pair) in enumerate(candidates))
    kept = sorted(heapq.nsmallest(max_pairs, ranked), key=lambda item: item[1])
    return [problem(f"{TASK_PREFIX}/{n}", pair, origin) for n, (_, _, origin, pair) in enumerate(kept)]


def problem(task_id: str, pair: Pair, origin: str) -> dict:
    return {"task_id": task_id, "prompt": pair.prompt, "canonical_solution": pair.solution, "entry_point": pair.name,
            "test": "", "source": f"{origin}:{pair.line}"}
