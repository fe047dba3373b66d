"""The offline teacher's answer to phi-1's annotation prompt: a transparent educational-value rubric.

phi-1 asked GPT-4 to "determine its educational value for a student whose goal is to learn basic
coding concepts" and named four faults of raw code: snippets that are not self-contained, that do
no meaningful computation (constants, parameters, GUI setup), whose logic is buried in long,
badly documented functions, or that are boilerplate. This rubric scores those properties from
the code's syntax tree (`ast`); it is a procedural stand-in, not a judgement by a model.
"""

from __future__ import annotations

import ast
import io
import re
import sys
import textwrap
import tokenize
from collections.abc import Callable
from dataclasses import dataclass

from phi1repro.quality.annotate import ANNOTATION_MARKER

GUI_MODULES = frozenset(
    {"tkinter", "Tkinter", "turtle", "PyQt4", "PyQt5", "PyQt6", "PySide", "PySide2", "PySide6", "wx", "kivy",
     "pygame", "gi", "PySimpleGUI", "easygui"}
)
PACKAGING_MODULES = frozenset({"setuptools", "distutils"})
CONTROL_FLOW = (ast.For, ast.AsyncFor, ast.While, ast.If, ast.IfExp, ast.Try, ast.Match, ast.comprehension)
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
SMALL_FUNCTION_LINES = 30
LONG_FUNCTION_LINES = 40
MAX_COMMENT_SHARE = 0.4

_FENCE = re.compile(r"^[ \t]*```[^\n`]*\n(.*?)^[ \t]*```", re.MULTILINE | re.DOTALL)
_DEFINITION = re.compile(r"^\s*(?:async\s+)?(?:def|class)\s+\w+", re.MULTILINE)


def extract_code(prompt: str) -> str:
    """The code of the first fenced block in `prompt`; without one, the text after the marker (or all of it)."""
    if fence := _FENCE.search(prompt):
        return textwrap.dedent(fence.group(1))
    _, marker, after = prompt.partition(ANNOTATION_MARKER)
    return after.lstrip(" .:\n") if marker else prompt


@dataclass(frozen=True)
class Features:
    """What the rubric looks at in a snippet that parses."""

    module_docstring: bool
    definitions: int  # functions and classes
    documented: int  # of which have a docstring
    comment_share: float  # lines with a comment / non-blank lines
    imports: frozenset[str]  # top-level names of absolute imports
    relative_imports: bool
    control_flow: bool
    computed_returns: bool  # some function returns a value that is not a constant
    functions: int
    stubs: int  # functions whose body is only pass, ... or raise NotImplementedError
    longest_function: int  # lines
    longest_undocumented_function: int  # lines


@dataclass(frozen=True)
class Criterion:
    label: str
    points: int
    applies: Callable[[Features], bool]


CRITERIA: tuple[Criterion, ...] = (
    Criterion("control flow", +1, lambda f: f.control_flow),
    Criterion("functions return computed values", +1, lambda f: f.computed_returns),
    Criterion("docstrings", +1, lambda f: f.module_docstring or 0 < f.definitions <= 2 * f.documented),
    Criterion(
        "small functions", +1, lambda f: f.functions > f.stubs and f.longest_function <= SMALL_FUNCTION_LINES
    ),
    Criterion(
        "self-contained", +1, lambda f: not f.relative_imports and f.imports <= sys.stdlib_module_names
    ),
    Criterion("comments in moderation", +1, lambda f: 0 < f.comment_share <= MAX_COMMENT_SHARE),
    Criterion("no meaningful computation", -2, lambda f: not (f.control_flow or f.computed_returns)),
    Criterion("GUI setup", -2, lambda f: bool(f.imports & GUI_MODULES)),
    Criterion("relative imports", -2, lambda f: f.relative_imports),
    Criterion(
        "logic buried in a long undocumented function", -2,
        lambda f: f.longest_undocumented_function > LONG_FUNCTION_LINES,
    ),
    Criterion(
        "boilerplate", -1, lambda f: bool(f.imports & PACKAGING_MODULES) or 0 < f.functions <= 2 * f.stubs
    ),
)


def educational_value(code: str) -> tuple[int, str]:
    """(score 0..5, one-line reason) for a code snippet, by a fixed additive rubric.

    Each criterion that holds adds its points; the score is the sum clipped to 0..5.

    Rewards, +1 each:
      control flow                      a loop, branch, comprehension, try or match anywhere
      functions return computed values  some function returns something other than a constant
      docstrings                        a module docstring, or at least half the functions and classes have one
      small functions                   real (not stub) functions, none longer than 30 lines
      self-contained                    imports only from the standard library, and no relative imports
      comments in moderation            comments on some lines, at most 40% of the non-blank lines
    Penalties (the paper's complaints about raw code):
      no meaningful computation  -2     neither control flow nor a computed return: constants, parameters, calls
      GUI setup                  -2     imports a GUI toolkit (tkinter, PyQt, wx, kivy, pygame, ...)
      relative imports           -2     depends on files outside the snippet
      long undocumented function -2     a function over 40 lines without a docstring
      boilerplate                -1     packaging setup (setuptools, distutils), or mostly stub functions
    A snippet that does not parse as Python scores 1 if it defines a function or class, else 0.

    The reason names the (up to) three criteria with the largest points, in the order above.
    """
    if not code.strip():
        return 0, "empty snippet"
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        defines = bool(_DEFINITION.search(code))
        return int(defines), "does not parse as Python" + (", though it defines functions" if defines else "")
    features = _features(tree, code)
    applied = [c for c in CRITERIA if c.applies(features)]
    score = min(5, max(0, sum(c.points for c in applied)))
    strongest = sorted(applied, key=lambda c: -abs(c.points))[:3]
    return score, ", ".join(f"{c.label} ({c.points:+d})" for c in strongest) or "no notable strengths or faults"


def _features(tree: ast.Module, code: str) -> Features:
    nodes = list(ast.walk(tree))
    definitions = [n for n in nodes if isinstance(n, (*FUNCTIONS, ast.ClassDef))]
    functions = [n for n in definitions if isinstance(n, FUNCTIONS)]
    imports = {alias.name for n in nodes if isinstance(n, ast.Import) for alias in n.names}
    imports |= {n.module for n in nodes if isinstance(n, ast.ImportFrom) and n.level == 0 and n.module}
    returns = [n for f in functions for n in ast.walk(f) if isinstance(n, ast.Return)]
    lines = {f: f.end_lineno - f.lineno + 1 for f in functions}
    return Features(
        module_docstring=ast.get_docstring(tree) is not None,
        definitions=len(definitions),
        documented=sum(ast.get_docstring(d) is not None for d in definitions),
        comment_share=_comment_lines(code) / max(1, sum(bool(line.strip()) for line in code.splitlines())),
        imports=frozenset(name.partition(".")[0] for name in imports),
        relative_imports=any(isinstance(n, ast.ImportFrom) and n.level > 0 for n in nodes),
        control_flow=any(isinstance(n, CONTROL_FLOW) for n in nodes),
        computed_returns=any(r.value is not None and not isinstance(r.value, ast.Constant) for r in returns),
        functions=len(functions),
        stubs=sum(_is_stub(f) for f in functions),
        longest_function=max(lines.values(), default=0),
        longest_undocumented_function=max((n for f, n in lines.items() if ast.get_docstring(f) is None), default=0),
    )


def _comment_lines(code: str) -> int:
    """Lines holding a comment (by the tokenizer, so '#' inside strings does not count)."""
    try:
        tokens = tokenize.generate_tokens(io.StringIO(code).readline)
        return len({t.start[0] for t in tokens if t.type == tokenize.COMMENT})
    except (tokenize.TokenError, SyntaxError):  # rare code the parser accepts but the tokenizer does not
        return 0


def _is_stub(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    body = function.body[1:] if ast.get_docstring(function) is not None else function.body
    if not body:
        return True
    if len(body) > 1:
        return False
    statement = body[0]
    return (
        isinstance(statement, ast.Pass)
        or (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant))
        or (isinstance(statement, ast.Raise) and "NotImplementedError" in ast.unparse(statement))
    )
