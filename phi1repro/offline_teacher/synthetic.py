"""Offline answers to the synthetic-data prompts: textbook sections and code exercises, assembled procedurally.

This is NOT a language model and writes nothing new in the way GPT-3.5 did for phi-1. It is a
transparent, deterministic stand-in that lets the synthetic stage run end to end offline, built
from real material on the machine:

* TextbookGenerator answers textbook prompts (synth/prompts.py: TEXTBOOK_MARKER) with a Markdown
  section for the requested topic, audience and style. Its explanations quote the first paragraph
  of real documentation: standard-library docstrings and the language reference that ships with
  Python (pydoc_data.topics). Its code examples are the `>>>` examples of those texts, turned into
  scripts, plus short programs and wrong/right pairs written for the default topics (TOPIC_EXAMPLES,
  PITFALLS). Every example is run in this process when the index is built (lazily, once, in well
  under a second): a doctest example is kept only if it passes, and the output shown under every
  example is what running its script printed. Only the modules in SAFE_MODULES are imported; none
  opens windows, files, sockets or subprocesses. A topic outside the defaults gets the documentation
  that shares the most words with it. Wording (templates per audience class, layout per style,
  choice of examples) varies with `rng`.
* ExerciseGenerator answers exercise prompts (EXERCISE_MARKER) with one function named as asked:
  a docstring stating a task set in the requested domain, doctest examples and a solution, from
  parameterised problem families (FAMILIES) chosen by the verb, noun and modifier in the name. Expected
  outputs are computed by running the reference solution, so examples are correct by construction,
  except in deliberately flawed answers: with probability FLAW_RATE an answer has one of FLAW_KINDS,
  so the downstream validator has broken exercises to catch, as it would with a real teacher.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import copy
import doctest
import importlib
import inspect
import io
import keyword
import math
import random
import re
import textwrap
import threading
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from types import ModuleType
from typing import Any

from phi1repro.synth.prompts import EXERCISE_MARKER, TEXTBOOK_MARKER, prompt_fields

from .messages import Messages, last_user_text




# --- material: documentation and examples that are checked by running them --------------------------------------

SAFE_MODULES = (
    "abc", "array", "base64", "binascii", "bisect", "calendar", "cmath", "collections", "colorsys", "contextlib",
    "copy", "csv", "dataclasses", "datetime", "decimal", "difflib", "doctest", "enum", "fnmatch", "fractions",
    "functools", "graphlib", "hashlib", "heapq", "html", "io", "ipaddress", "itertools", "json", "keyword", "math",
    "numbers", "operator", "pathlib", "pprint", "queue", "random", "re", "reprlib", "shlex", "statistics", "string",
    "struct", "textwrap", "types", "typing", "unicodedata", "unittest", "urllib.parse", "weakref", "zlib",
)
"""The only modules this module imports to read docstrings and run their examples: pure, no I/O on import or use."""
NO_DOCTEST_MODULES = frozenset({"decimal", "random"})  # their examples change process-wide state (context, seed)
BUILTIN_TYPES = (str, list, dict, set, frozenset, tuple, int, float, bytes, range)
SITE_BUILTINS = frozenset({"copyright", "credits", "exit", "help", "license", "quit"})
FORBIDDEN_NAMES = frozenset({
    "__import__", "breakpoint", "compile", "eval", "exec", "exit", "globals", "hash", "help", "id", "input",
    "locals", "open", "quit", "vars", "os", "sys",
})
"""Names that disqualify a documentation example: I/O, introspection of the process, or per-process values."""
MAX_CODE_LINES = 14
MAX_OUTPUT_LINES = 14
MAX_LINE_CHARS = 100
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}| object at ")


@dataclass(frozen=True)
class Example:
    """A script and what running it prints. `origin` says where it comes from ('' for examples written here)."""

    code: str
    output: str
    origin: str = ""


@dataclass(frozen=True)
class Material:
    """One documented thing: a standard-library object or a section of the language reference."""

    key: str  # "statistics.median", "str.split", "ref:while"
    name: str  # Markdown: "`statistics.median`", "“The `while` statement”"
    source: str  # where its text comes from: "the docstring of `statistics.median`"
    summary: str  # the first prose paragraph of its documentation
    signature: str  # e.g. "statistics.median(data)", or ""
    examples: tuple[Example, ...]


class _Unstable(Exception):
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


class _Sandbox:
    """Runs example code in a fresh namespace of this process and captures what it prints."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {"__name__": "__main__", "print": self._print}

    @staticmethod
    def _print(*args: Any, **kwargs: Any) -> None:
        if not all(map(_prints_stably, args)):
            raise _Unstable
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
            raise _Unstable
        return out.getvalue() + repr(value) + "\n", True


def run_script(code: str) -> str | None:
    """What `code` prints when run as a script (maybe ''), or None if it fails, prints something that depends on
    the process, or prints too much to show. Runs twice to make sure the output repeats."""
    try:
        outputs = {_Sandbox().run(code) for _ in range(2)}
    except Exception:  # any failure disqualifies the example (_Unstable included)
        return None
    output = outputs.pop()
    lines = output.splitlines()
    if outputs or len(lines) > MAX_OUTPUT_LINES or "```" in output:
        return None
    if _ADDRESS.search(output) or any(len(line) > MAX_LINE_CHARS for line in lines):
        return None
    return output


def _safe_module(name: str) -> bool:
    return any(name == m or name.startswith(m + ".") for m in SAFE_MODULES)


def _names(tree: ast.AST) -> tuple[set[str], set[str]]:
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


def _acceptable(tree: ast.AST) -> bool:
    """No forbidden names, and imports only of SAFE_MODULES."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            return False
        if isinstance(node, ast.Import) and not all(_safe_module(a.name) for a in node.names):
            return False
        if isinstance(node, ast.ImportFrom) and not (node.level == 0 and node.module and _safe_module(node.module)):
            return False
    return True


def _import_line(name: str, home: ModuleType) -> str | None:
    """An import statement that defines `name` as it is known in `home`, or None."""
    value = getattr(home, name, None) if home is not builtins else None
    if value is None:
        return f"import {name}" if name in SAFE_MODULES else None
    if inspect.ismodule(value):
        if not _safe_module(value.__name__):
            return None
        return f"import {value.__name__}" + ("" if value.__name__ == name else f" as {name}")
    origin = getattr(value, "__module__", None) or home.__name__
    if not (_safe_module(origin) and getattr(importlib.import_module(origin), name, None) is value):
        origin = home.__name__
    return f"from {origin} import {name}"


def _script_line(source: str) -> str:
    """An expression whose value the interactive prompt echoes, as a script line: wrapped in print()."""
    source = source.rstrip("\n")
    value = ast.parse(source).body[0].value
    expression = ast.get_source_segment(source, value) or source
    comment = source[len(expression):].strip() if value.end_lineno == 1 else ""
    return f"print({expression})" + (f"  {comment}" if comment.startswith("#") else "")


def _imports(tree: ast.AST, home: ModuleType) -> list[str]:
    """Import statements for the names `tree` reads but neither binds nor gets from builtins, as `home` knows them."""
    read, bound = _names(tree)
    return sorted(filter(None, (_import_line(n, home) for n in read - bound - set(dir(builtins)))))


def _sessions(text: str) -> list[list[doctest.Example]]:
    """The runs of `>>>` examples in `text` that no prose separates."""
    sessions: list[list[doctest.Example]] = [[]]
    for piece in doctest.DocTestParser().parse(text):
        if isinstance(piece, doctest.Example):
            sessions[-1].append(piece)
        elif piece.strip() and sessions[-1]:
            sessions.append([])
    return [s for s in sessions if s]


def _verified_example(session: list[doctest.Example], home: ModuleType, origin: str) -> Example | None:
    """The longest start of `session` whose examples pass doctest's check, as a standalone script with its
    imports and the output the script prints; None if that start prints nothing."""
    try:
        tree = ast.parse("\n".join(e.source for e in session))
    except SyntaxError:
        return None
    if not _acceptable(tree):
        return None
    sandbox, checker = _Sandbox(), doctest.OutputChecker()
    lines: list[str] = []
    try:
        sandbox.run("\n".join(_imports(tree, home)))
        for example in session:
            if example.options or example.want.startswith("Traceback") or len(lines) >= MAX_CODE_LINES:
                break
            body = ast.parse(example.source).body
            got, echoed = (sandbox.echo(example.source) if len(body) == 1 and isinstance(body[0], ast.Expr)
                           else (sandbox.run(example.source), False))
            if not checker.check_output(example.want, got, 0):
                break
            line = _script_line(example.source) if echoed else example.source.rstrip("\n")
            lines.append(line + ("\n" if "\n" in line else ""))  # a blank line after a block
    except Exception:  # a failing example ends the verified start (_Unstable and SyntaxError included)
        pass
    body = "\n".join(lines).strip("\n")
    imports = _imports(ast.parse(body), home) if body else []
    code = "\n".join([*imports, *([""] if imports else []), body]).strip("\n")
    if len(code.splitlines()) > MAX_CODE_LINES or any(len(line) > MAX_LINE_CHARS for line in code.splitlines()):
        return None
    output = run_script(code)
    return Example(code, output, origin) if output and output.strip() else None


def _doc_examples(text: str, home: ModuleType, origin: str) -> tuple[Example, ...]:
    if ">>>" not in text:
        return ()
    examples = (_verified_example(session, home, origin) for session in _sessions(text))
    return tuple(e for e in examples if e)


_SIGNATURE_LINE = re.compile(r"^[\w.]+\(.*\)\s*(-+>.*)?$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(`*\"])")
_QUOTED_CODE = re.compile(r'"([^"\s]{1,40})"')  # the language reference quotes code like "this"
_REST_LITERAL = re.compile(r"``([^`]+)``")  # reStructuredText in docstrings: ``code``, :func:`name`
_REST_ROLE = re.compile(r":\w+:`([^`]+)`")


def first_paragraph(doc: str, max_words: int = 70) -> str:
    """The first prose paragraph of `doc` on one line: no signatures, grammar, headings or examples; at most
    about `max_words` words, cut at a sentence end."""
    for paragraph in re.split(r"\n\s*\n", doc):
        lines = paragraph.rstrip().splitlines()
        if not lines or lines[0][:1].isspace() or "::=" in paragraph:
            continue
        if lines[0].startswith((">>>", "* ", "(See", "CPython")) or (len(lines) > 1 and set(lines[-1]) <= set("*=-")):
            continue
        if any(map(_SIGNATURE_LINE.match, lines)):  # "name(args) -> result": keep only a prose result of one line
            rest = lines[0].partition(">")[2].strip() if len(lines) == 1 else ""
            if len(rest.split()) < 5:
                continue
            lines = [rest]
        text = lines[0].strip()
        for line in lines[1:]:
            text += ("" if re.search(r"[a-z]-$", text) else " ") + line.strip()
        sentences = _SENTENCE_END.split(text)
        kept = sentences[:1]
        for sentence in sentences[1:]:
            if len(" ".join(kept + [sentence]).split()) > max_words:
                break
            kept.append(sentence)
        if len(kept) > 1 and kept[-1].endswith(":"):  # a sentence that introduces a grammar rule or a list
            kept.pop()
        text = " ".join(kept).rstrip(": ")
        text = text[:1].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")
        text = _REST_ROLE.sub(r"`\1`", _REST_LITERAL.sub(r"`\1`", text))
        return _QUOTED_CODE.sub(r"`\1`", text)
    return ""


def _signature(display: str, obj: Any) -> str:
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return ""
    parameters = [p for p in signature.parameters.values() if p.name not in ("self", "cls")]
    text = str(signature.replace(parameters=parameters, return_annotation=inspect.Signature.empty))
    return "" if "<" in text else display + text  # defaults without a readable repr


def _object_material(key: str, obj: Any, home: ModuleType) -> Material | None:
    doc = inspect.getdoc(obj)
    summary = first_paragraph(doc) if doc else ""
    if not summary:
        return None
    display = key.removeprefix("builtins.")
    source = f"the docstring of `{display}`"
    run_examples = home.__name__.partition(".")[0] not in NO_DOCTEST_MODULES
    examples = _doc_examples(doc, home, source) if run_examples else ()
    signature = "" if inspect.ismodule(obj) else _signature(display, obj)
    return Material(display, f"`{display}`", source, summary, signature, examples)


def _reference_material(name: str, text: str) -> Material:
    heading, _, body = text.partition("\n\n")
    title = "“" + _QUOTED_CODE.sub(r"`\1`", heading.splitlines()[0].strip()) + "”"
    source = f"the Python language reference, section {title}"
    return Material(f"ref:{name}", title, source, first_paragraph(body), "", _doc_examples(text, builtins, source))


def _public_members(owner: Any) -> Iterable[tuple[str, Any]]:
    names = getattr(owner, "__all__", None) if inspect.ismodule(owner) else None
    for name in names or sorted(vars(owner)):
        if not name.startswith("_") and name in vars(owner):
            yield name, vars(owner)[name]


def _module_materials(module: ModuleType) -> Iterable[Material | None]:
    yield _object_material(module.__name__, module, module)
    for name, obj in _public_members(module):
        home = (getattr(obj, "__module__", None) or "").lstrip("_")
        defined_here = home == module.__name__ or home.startswith(module.__name__ + ".")
        if not (defined_here and (inspect.isclass(obj) or inspect.isroutine(obj))):
            continue
        yield _object_material(f"{module.__name__}.{name}", obj, module)
        if inspect.isclass(obj):
            for member, value in _public_members(obj):
                if inspect.isroutine(value) or isinstance(value, property) or inspect.isdatadescriptor(value):
                    yield _object_material(f"{module.__name__}.{name}.{member}", value, module)


def _builtin_materials() -> Iterable[Material | None]:
    for name in dir(builtins):
        obj = getattr(builtins, name)
        if not name.startswith("_") and name not in SITE_BUILTINS and (inspect.isclass(obj) or inspect.isroutine(obj)):
            yield _object_material(f"builtins.{name}", obj, builtins)
    for cls in BUILTIN_TYPES:
        for name, value in _public_members(cls):
            yield _object_material(f"{cls.__name__}.{name}", value, builtins)


# --- the default topics: where their material is, and examples and pitfalls written for them -------------------------

TOPIC_MATERIAL: dict[str, tuple[str, ...]] = {  # topic -> material keys (see Material.key)
    "variables and assignment": ("ref:assignment", "ref:naming"),
    "numbers and arithmetic": ("ref:binary", "abs", "pow"),
    "integer division and remainders": ("ref:binary", "divmod"),
    "floating point numbers and rounding": ("round", "math.isclose", "float.as_integer_ratio", "fractions.Fraction"),
    "strings and string methods": ("ref:string-methods", "str.split", "str.join", "str.replace", "str.strip"),
    "string formatting with f-strings": ("ref:formatstrings", "format"),
    "booleans and comparisons": ("ref:comparisons", "ref:truth", "bool"),
    "if, elif and else": ("ref:if", "ref:truth"),
    "while loops": ("ref:while", "ref:break"),
    "for loops and range": ("ref:for", "range"),
    "break, continue and loop else": ("ref:break", "ref:continue", "ref:for"),
    "lists": ("ref:typesseq-mutable", "list.append", "list.insert", "list.pop", "len"),
    "list slicing": ("ref:slicings", "slice"),
    "list comprehensions": ("ref:lists", "ref:typesseq"),
    "tuples and unpacking": ("tuple", "ref:assignment"),
    "dictionaries": ("ref:typesmapping", "dict.get", "dict.items", "dict.setdefault"),
    "dictionary comprehensions": ("ref:dict", "dict.items"),
    "sets and set operations": ("set", "set.union", "set.intersection", "set.difference"),
    "functions and parameters": ("ref:function", "ref:calls"),
    "default and keyword arguments": ("ref:function", "ref:calls"),
    "*args and **kwargs": ("ref:calls", "ref:function"),
    "return values": ("ref:return", "ref:function"),
    "scope and closures": ("ref:naming", "ref:nonlocal", "ref:global"),
    "recursion": ("math.factorial", "functools.lru_cache"),
    "lambda functions": ("ref:lambda", "sorted"),
    "higher-order functions: map, filter and sorted": ("map", "filter", "sorted", "functools.reduce"),
    "iterators": ("iter", "next"),
    "generators and yield": ("ref:yield", "next"),
    "exceptions and try/except": ("ref:try", "ValueError", "ZeroDivisionError"),
    "raising your own exceptions": ("ref:raise", "Exception"),
    "classes and objects": ("ref:class", "ref:objects"),
    "methods and attributes": ("ref:attribute-references", "ref:typesmethods", "getattr", "hasattr"),
    "inheritance": ("ref:class", "isinstance", "issubclass"),
    "special methods like __init__ and __repr__": ("ref:specialnames", "repr"),
    "dataclasses": ("dataclasses.dataclass", "dataclasses.field", "dataclasses.asdict"),
    "modules and imports": ("ref:import",),
    "reading and writing text files": ("open", "io.StringIO"),
    "working with paths": ("pathlib.PurePosixPath", "pathlib.PurePath.with_suffix", "pathlib.PurePath.parts"),
    "regular expressions": ("re.search", "re.findall", "re.sub", "re.fullmatch"),
    "type hints": ("typing.get_type_hints", "typing.get_args", "typing.get_origin"),
    "context managers and with": ("ref:with", "contextlib.contextmanager", "contextlib.suppress"),
    "decorators": ("ref:function", "functools.wraps"),
    "enumerate and zip": ("enumerate", "zip", "itertools.zip_longest"),
    "itertools": ("itertools.chain", "itertools.groupby", "itertools.combinations", "itertools.accumulate",
                  "itertools.islice", "itertools.product"),
    "collections: Counter, defaultdict and deque": ("collections.Counter", "collections.defaultdict",
                                                   "collections.deque", "collections.namedtuple"),
    "the math module": ("math.sqrt", "math.gcd", "math.hypot", "math.floor", "math.ceil", "math.comb"),
    "random numbers": ("random.Random", "random.Random.randint", "random.Random.choice", "random.Random.shuffle"),
    "dates and times": ("datetime.timedelta", "datetime.date.isoformat", "datetime.date.weekday", "calendar.isleap"),
    "JSON": ("json", "json.dumps", "json.loads"),
    "CSV files": ("csv", "io.StringIO"),
    "unit testing with assert": ("ref:assert", "unittest.TestCase"),
    "doctest": ("doctest", "doctest.DocTestParser"),
    "debugging strategies": ("repr", "isinstance", "ref:assert"),
    "code style and PEP 8": ("str.isidentifier", "ref:naming"),
    "algorithms and their running time": ("len", "sorted"),
    "big-O notation": ("bisect.bisect_left", "list.index"),
    "linear search": ("list.index", "enumerate", "ref:comparisons"),
    "binary search": ("bisect.bisect_left", "bisect.bisect_right", "bisect.insort"),
    "sorting algorithms": ("sorted", "list.sort"),
    "stacks": ("list.append", "list.pop"),
    "queues": ("collections.deque", "collections.deque.popleft"),
    "linked lists": ("ref:class", "ref:objects"),
    "hash tables": ("ref:typesmapping", "hash"),
    "trees and tree traversal": ("ref:class", "ref:yield"),
    "binary search trees": ("ref:class", "bisect.insort"),
    "heaps and priority queues": ("heapq.heappush", "heapq.heappop", "heapq.heapify", "heapq.nsmallest",
                                  "heapq.merge"),
    "graphs and breadth-first search": ("collections.deque", "graphlib.TopologicalSorter"),
    "depth-first search": ("list.pop", "set.add"),
    "dynamic programming": ("functools.lru_cache", "functools.cache"),
    "greedy algorithms": ("sorted", "divmod"),
    "divide and conquer": ("heapq.merge", "bisect.bisect_left"),
    "prime numbers": ("math.isqrt", "math.gcd"),
    "greatest common divisor": ("math.gcd", "math.lcm", "fractions.Fraction"),
    "bit manipulation": ("ref:bitwise", "ref:shifting", "int.bit_length", "int.bit_count", "bin"),
    "number bases: binary and hexadecimal": ("bin", "hex", "oct", "int"),
    "matrices as lists of lists": ("zip", "sum"),
    "string algorithms: palindromes and anagrams": ("reversed", "collections.Counter", "sorted"),
    "parsing text": ("str.split", "str.partition", "re.findall", "shlex.split"),
    "simulation with random numbers": ("random.Random", "random.Random.uniform", "statistics.mean"),
    "memoization": ("functools.lru_cache", "functools.cache"),
    "immutability": ("ref:objects", "tuple", "frozenset"),
    "state machines": ("enum.Enum", "ref:dict"),
}

TOPIC_EXAMPLES: dict[str, tuple[str, ...]] = {  # topic -> scripts; their output is computed by running them
    "variables and assignment": (
        r"""
        score = 10
        bonus = 5
        score = score + bonus
        print("score:", score)
        """,
        r"""
        a, b = 1, 2
        a, b = b, a
        print(a, b)
        """,
        r"""
        first = [1, 2]
        second = first
        second.append(3)
        print(first)
        """,
    ),
    "numbers and arithmetic": (
        r"""
        print(7 + 3 * 2)
        print((7 + 3) * 2)
        print(2 ** 10)
        """,
        r"""
        price = 4.5
        quantity = 3
        print("total:", price * quantity)
        """,
        r"""
        print(abs(-12), pow(3, 4), max(3, 9, 4))
        """,
    ),
    "integer division and remainders": (
        r"""
        print(17 // 5, 17 % 5)
        print(divmod(17, 5))
        """,
        r"""
        minutes = 135
        hours, rest = divmod(minutes, 60)
        print(f"{hours} h {rest} min")
        """,
        r"""
        for n in range(1, 7):
            print(n, "even" if n % 2 == 0 else "odd")
        """,
        r"""
        print(-7 // 2, -7 % 2)
        """,
    ),
    "floating point numbers and rounding": (
        r"""
        print(0.1 + 0.2)
        print(0.1 + 0.2 == 0.3)
        """,
        r"""
        import math
        print(math.isclose(0.1 + 0.2, 0.3))
        """,
        r"""
        print(round(3.14159, 2), round(2.5), round(3.5))
        """,
        r"""
        from fractions import Fraction
        print(Fraction(1, 10) + Fraction(2, 10))
        """,
    ),
    "strings and string methods": (
        r"""
        name = "  Ada Lovelace  "
        print(name.strip().upper())
        print(name.strip().split())
        """,
        r"""
        words = ["red", "green", "blue"]
        print(", ".join(words))
        """,
        r"""
        text = "banana"
        print(text.count("a"), text.find("n"), text.replace("a", "o"))
        """,
    ),
    "string formatting with f-strings": (
        r"""
        name = "Ada"
        age = 36
        print(f"{name} is {age} years old")
        """,
        r"""
        price = 3.5
        print(f"{price:.2f}")
        print(f"{1234567:,}")
        """,
        r"""
        for item, cost in [("tea", 2.5), ("cake", 4.25)]:
            print(f"{item:<6}{cost:>6.2f}")
        """,
    ),
    "booleans and comparisons": (
        r"""
        age = 15
        print(age >= 13 and age < 20)
        print(13 <= age < 20)
        """,
        r"""
        print(bool(0), bool(""), bool([]), bool("hi"))
        """,
        r"""
        x = 3
        print(x == 3, x != 3, not x == 3)
        """,
    ),
    "if, elif and else": (
        r"""
        temperature = 23
        if temperature > 30:
            print("hot")
        elif temperature > 15:
            print("warm")
        else:
            print("cold")
        """,
        r"""
        for score in [95, 72, 40]:
            if score >= 90:
                grade = "A"
            elif score >= 60:
                grade = "pass"
            else:
                grade = "fail"
            print(score, grade)
        """,
    ),
    "while loops": (
        r"""
        count = 3
        while count > 0:
            print(count)
            count -= 1
        print("lift off!")
        """,
        r"""
        n = 27
        steps = 0
        while n != 1:
            n = n // 2 if n % 2 == 0 else 3 * n + 1
            steps += 1
        print(steps)
        """,
        r"""
        balance = 100
        years = 0
        while balance < 200:
            balance *= 1.1
            years += 1
        print(years)
        """,
    ),
    "for loops and range": (
        r"""
        for i in range(3):
            print(i)
        """,
        r"""
        total = 0
        for n in range(1, 11):
            total += n
        print(total)
        """,
        r"""
        print(list(range(10, 0, -3)))
        """,
    ),
    "break, continue and loop else": (
        r"""
        for n in [3, 8, 12, 5]:
            if n > 10:
                print("found", n)
                break
        """,
        r"""
        for n in range(6):
            if n % 2 == 0:
                continue
            print(n)
        """,
        r"""
        for n in [2, 4, 6]:
            if n % 2:
                print("odd number found")
                break
        else:
            print("all even")
        """,
    ),
    "lists": (
        r"""
        fruits = ["apple", "pear"]
        fruits.append("plum")
        fruits.insert(0, "fig")
        print(fruits, len(fruits))
        """,
        r"""
        stack = [1, 2, 3]
        last = stack.pop()
        print(last, stack)
        """,
        r"""
        numbers = [5, 2, 9]
        numbers.sort()
        print(numbers, numbers[0], numbers[-1])
        """,
    ),
    "list slicing": (
        r"""
        letters = ["a", "b", "c", "d", "e"]
        print(letters[1:3])
        print(letters[:2], letters[3:])
        """,
        r"""
        numbers = list(range(10))
        print(numbers[::2])
        print(numbers[::-1])
        """,
        r"""
        word = "python"
        print(word[-3:], word[:-3])
        """,
    ),
    "list comprehensions": (
        r"""
        squares = [n * n for n in range(6)]
        print(squares)
        """,
        r"""
        words = ["Sun", "moon", "Star"]
        print([w.lower() for w in words if w[0].isupper()])
        """,
        r"""
        pairs = [(x, y) for x in range(2) for y in "ab"]
        print(pairs)
        """,
    ),
    "tuples and unpacking": (
        r"""
        point = (3, 4)
        x, y = point
        print(x, y)
        """,
        r"""
        first, *middle, last = [1, 2, 3, 4, 5]
        print(first, middle, last)
        """,
        r"""
        def min_max(values):
            return min(values), max(values)

        low, high = min_max([4, 1, 7])
        print(low, high)
        """,
    ),
    "dictionaries": (
        r"""
        ages = {"ada": 36, "alan": 41}
        ages["grace"] = 85
        print(ages["alan"], len(ages))
        """,
        r"""
        stock = {"apples": 3}
        print(stock.get("pears", 0))
        """,
        r"""
        prices = {"tea": 2.5, "cake": 4.0}
        for item, price in prices.items():
            print(item, price)
        """,
    ),
    "dictionary comprehensions": (
        r"""
        squares = {n: n * n for n in range(5)}
        print(squares)
        """,
        r"""
        prices = {"tea": 2.5, "cake": 4.0, "juice": 3.0}
        cheap = {k: v for k, v in prices.items() if v < 3.5}
        print(cheap)
        """,
        r"""
        words = ["apple", "kiwi", "banana"]
        print({w: len(w) for w in words})
        """,
    ),
    "sets and set operations": (
        r"""
        a = {1, 2, 3, 4}
        b = {3, 4, 5}
        print(a | b)
        print(a & b)
        print(a - b)
        """,
        r"""
        visits = ["ana", "ben", "ana", "cy", "ben"]
        print(sorted(set(visits)))
        """,
        r"""
        print(3 in {1, 2, 3}, len({1, 1, 2}))
        """,
    ),
    "functions and parameters": (
        r"""
        def greet(name):
            return "Hello, " + name + "!"

        print(greet("Ada"))
        """,
        r"""
        def area(width, height):
            return width * height

        print(area(3, 4))
        """,
    ),
    "default and keyword arguments": (
        r"""
        def greet(name, greeting="Hello"):
            return f"{greeting}, {name}!"

        print(greet("Ada"))
        print(greet("Alan", greeting="Hi"))
        """,
        r"""
        def power(base, exponent=2):
            return base ** exponent

        print(power(5), power(2, exponent=8))
        """,
    ),
    "*args and **kwargs": (
        r"""
        def total(*numbers):
            return sum(numbers)

        print(total(1, 2, 3))
        """,
        r"""
        def describe(**details):
            for key, value in details.items():
                print(key, "=", value)

        describe(name="Ada", year=1815)
        """,
        r"""
        def show(*args, **kwargs):
            print(args, kwargs)

        show(1, 2, colour="red")
        """,
    ),
    "return values": (
        r"""
        def square(n):
            return n * n

        result = square(7)
        print(result)
        """,
        r"""
        def shout(text):
            print(text.upper())

        value = shout("hi")
        print(value)
        """,
        r"""
        def divide(a, b):
            return a // b, a % b

        print(divide(17, 5))
        """,
    ),
    "scope and closures": (
        r"""
        def make_counter():
            count = 0
            def increment():
                nonlocal count
                count += 1
                return count
            return increment

        counter = make_counter()
        counter()
        print(counter())
        """,
        r"""
        x = "global"

        def show():
            x = "local"
            print(x)

        show()
        print(x)
        """,
        r"""
        def multiplier(factor):
            return lambda n: n * factor

        double = multiplier(2)
        print(double(21))
        """,
    ),
    "recursion": (
        r"""
        def factorial(n):
            if n <= 1:
                return 1
            return n * factorial(n - 1)

        print(factorial(5))
        """,
        r"""
        def count_down(n):
            if n == 0:
                print("done")
                return
            print(n)
            count_down(n - 1)

        count_down(3)
        """,
        r"""
        def total(items):
            if not items:
                return 0
            return items[0] + total(items[1:])

        print(total([4, 5, 6]))
        """,
    ),
    "lambda functions": (
        r"""
        double = lambda n: n * 2
        print(double(8))
        """,
        r"""
        people = [("ada", 36), ("alan", 41), ("grace", 29)]
        print(sorted(people, key=lambda p: p[1]))
        """,
        r"""
        words = ["kiwi", "fig", "banana"]
        print(max(words, key=lambda w: len(w)))
        """,
    ),
    "higher-order functions: map, filter and sorted": (
        r"""
        print(list(map(str.upper, ["a", "b", "c"])))
        """,
        r"""
        numbers = [5, 12, 7, 20]
        print(list(filter(lambda n: n > 6, numbers)))
        """,
        r"""
        words = ["banana", "Apple", "cherry"]
        print(sorted(words))
        print(sorted(words, key=str.lower))
        """,
        r"""
        from functools import reduce
        print(reduce(lambda a, b: a * b, [1, 2, 3, 4]))
        """,
    ),
    "iterators": (
        r"""
        letters = iter("abc")
        print(next(letters))
        print(next(letters))
        print(list(letters))
        """,
        r"""
        numbers = iter([1, 2])
        print(next(numbers), next(numbers), next(numbers, "no more"))
        """,
        r"""
        class Countdown:
            def __init__(self, start):
                self.current = start
            def __iter__(self):
                return self
            def __next__(self):
                if self.current == 0:
                    raise StopIteration
                self.current -= 1
                return self.current + 1

        print(list(Countdown(3)))
        """,
    ),
    "generators and yield": (
        r"""
        def countdown(n):
            while n > 0:
                yield n
                n -= 1

        print(list(countdown(4)))
        """,
        r"""
        def evens():
            n = 0
            while True:
                yield n
                n += 2

        gen = evens()
        print([next(gen) for _ in range(5)])
        """,
        r"""
        squares = (n * n for n in range(5))
        print(sum(squares))
        """,
    ),
    "exceptions and try/except": (
        r"""
        try:
            number = int("forty")
        except ValueError:
            number = 0
        print(number)
        """,
        r"""
        def safe_divide(a, b):
            try:
                return a / b
            except ZeroDivisionError:
                return None

        print(safe_divide(6, 3), safe_divide(1, 0))
        """,
        r"""
        try:
            [1, 2, 3][10]
        except IndexError as error:
            print("caught:", error)
        finally:
            print("finished")
        """,
    ),
    "raising your own exceptions": (
        r"""
        def set_age(age):
            if age < 0:
                raise ValueError("age cannot be negative")
            return age

        try:
            set_age(-3)
        except ValueError as error:
            print(error)
        """,
        r"""
        class OutOfStock(Exception):
            pass

        try:
            raise OutOfStock("no apples left")
        except OutOfStock as error:
            print(type(error).__name__, error)
        """,
    ),
    "classes and objects": (
        r"""
        class Dog:
            def __init__(self, name):
                self.name = name

            def speak(self):
                return self.name + " says woof"

        rex = Dog("Rex")
        print(rex.speak())
        """,
        r"""
        class Counter:
            def __init__(self):
                self.value = 0

            def click(self):
                self.value += 1

        c = Counter()
        c.click()
        c.click()
        print(c.value)
        """,
    ),
    "methods and attributes": (
        r"""
        class Circle:
            def __init__(self, radius):
                self.radius = radius

            def area(self):
                return round(3.14159 * self.radius ** 2, 2)

        c = Circle(2)
        print(c.radius, c.area())
        """,
        r"""
        class Box:
            size = "small"

        b = Box()
        print(getattr(b, "size"), hasattr(b, "colour"))
        """,
    ),
    "inheritance": (
        r"""
        class Animal:
            def __init__(self, name):
                self.name = name
            def speak(self):
                return "..."

        class Cat(Animal):
            def speak(self):
                return self.name + " says meow"

        print(Cat("Tom").speak())
        """,
        r"""
        class Shape:
            def describe(self):
                return "a shape"

        class Square(Shape):
            def describe(self):
                return super().describe() + " with four equal sides"

        print(Square().describe())
        print(isinstance(Square(), Shape), issubclass(Square, Shape))
        """,
    ),
    "special methods like __init__ and __repr__": (
        r"""
        class Point:
            def __init__(self, x, y):
                self.x, self.y = x, y
            def __repr__(self):
                return f"Point({self.x}, {self.y})"

        print(Point(1, 2))
        """,
        r"""
        class Bag:
            def __init__(self, items):
                self.items = list(items)
            def __len__(self):
                return len(self.items)
            def __contains__(self, item):
                return item in self.items

        bag = Bag(["pen", "book"])
        print(len(bag), "pen" in bag)
        """,
        r"""
        class Money:
            def __init__(self, cents):
                self.cents = cents
            def __add__(self, other):
                return Money(self.cents + other.cents)
            def __eq__(self, other):
                return self.cents == other.cents

        print(Money(150) + Money(50) == Money(200))
        """,
    ),
    "dataclasses": (
        r"""
        from dataclasses import dataclass

        @dataclass
        class Book:
            title: str
            pages: int

        print(Book("Dune", 412))
        """,
        r"""
        from dataclasses import dataclass, field, asdict

        @dataclass
        class Team:
            name: str
            members: list = field(default_factory=list)

        team = Team("blue")
        team.members.append("ada")
        print(asdict(team))
        """,
        r"""
        from dataclasses import dataclass

        @dataclass(frozen=True)
        class Point:
            x: int
            y: int

        print(Point(1, 2) == Point(1, 2))
        """,
    ),
    "modules and imports": (
        r"""
        import math
        print(math.sqrt(81))
        """,
        r"""
        from collections import Counter
        print(Counter("hello").most_common(1))
        """,
        r"""
        import statistics as stats
        print(stats.mean([2, 4, 9]))
        """,
    ),
    "reading and writing text files": (
        r"""
        import io

        file = io.StringIO()
        file.write("first line\n")
        file.write("second line\n")
        print(file.getvalue(), end="")
        """,
        r"""
        import io

        file = io.StringIO("apples 3\npears 5\n")
        for line in file:
            name, count = line.split()
            print(name, int(count) * 2)
        """,
        r"""
        import io

        file = io.StringIO("one\ntwo\nthree\n")
        print(file.readline().strip())
        print(file.read().splitlines())
        """,
    ),
    "working with paths": (
        r"""
        from pathlib import PurePosixPath

        path = PurePosixPath("/home/ada/notes/todo.txt")
        print(path.name, path.suffix, path.stem)
        print(path.parent)
        """,
        r"""
        from pathlib import PurePosixPath

        folder = PurePosixPath("data")
        print(folder / "2024" / "report.csv")
        """,
        r"""
        from pathlib import PurePosixPath

        print(PurePosixPath("photo.jpeg").with_suffix(".png"))
        print(PurePosixPath("/usr/lib/python3").parts)
        """,
    ),
    "regular expressions": (
        r"""
        import re
        print(re.findall(r"\d+", "3 apples and 12 pears"))
        """,
        r"""
        import re
        match = re.search(r"(\w+)@(\w+)\.com", "write to ada@example.com today")
        print(match.group(1), match.group(2))
        """,
        r"""
        import re
        print(re.sub(r"\s+", " ", "too    many   spaces"))
        """,
        r"""
        import re
        print(bool(re.fullmatch(r"[A-Z]{2}\d{3}", "AB123")))
        """,
    ),
    "type hints": (
        r"""
        def add(a: int, b: int) -> int:
            return a + b

        print(add(2, 3))
        print(add.__annotations__)
        """,
        r"""
        from typing import Optional

        def find(names: list[str], target: str) -> Optional[int]:
            return names.index(target) if target in names else None

        print(find(["a", "b"], "b"), find(["a"], "z"))
        """,
    ),
    "context managers and with": (
        r"""
        from contextlib import contextmanager

        @contextmanager
        def announce(name):
            print("start", name)
            yield
            print("end", name)

        with announce("task"):
            print("working")
        """,
        r"""
        from contextlib import suppress

        with suppress(KeyError):
            {}["missing"]
        print("still running")
        """,
        r"""
        import io

        with io.StringIO("hello") as file:
            print(file.read())
        print(file.closed)
        """,
    ),
    "decorators": (
        r"""
        def shout(func):
            def wrapper(*args):
                return func(*args).upper()
            return wrapper

        @shout
        def greet(name):
            return "hello " + name

        print(greet("ada"))
        """,
        r"""
        import functools

        def count_calls(func):
            @functools.wraps(func)
            def wrapper(*args):
                wrapper.calls += 1
                return func(*args)
            wrapper.calls = 0
            return wrapper

        @count_calls
        def square(n):
            return n * n

        square(3)
        square(4)
        print(square.__name__, square.calls)
        """,
    ),
    "enumerate and zip": (
        r"""
        for position, name in enumerate(["ada", "alan", "grace"], start=1):
            print(position, name)
        """,
        r"""
        names = ["ada", "alan"]
        ages = [36, 41]
        print(list(zip(names, ages)))
        """,
        r"""
        from itertools import zip_longest
        print(list(zip_longest([1, 2, 3], "ab", fillvalue="-")))
        """,
    ),
    "itertools": (
        r"""
        import itertools
        print(list(itertools.combinations("abc", 2)))
        """,
        r"""
        import itertools
        print(list(itertools.accumulate([1, 2, 3, 4])))
        """,
        r"""
        import itertools
        for key, group in itertools.groupby("aaabbc"):
            print(key, len(list(group)))
        """,
        r"""
        import itertools
        print(list(itertools.islice(itertools.count(10, 5), 4)))
        """,
        r"""
        import itertools
        print(list(itertools.product([0, 1], repeat=2)))
        """,
    ),
    "collections: Counter, defaultdict and deque": (
        r"""
        from collections import Counter
        print(Counter("mississippi").most_common(2))
        """,
        r"""
        from collections import defaultdict
        groups = defaultdict(list)
        for word in ["apple", "avocado", "banana"]:
            groups[word[0]].append(word)
        print(dict(groups))
        """,
        r"""
        from collections import deque
        queue = deque([1, 2, 3])
        queue.appendleft(0)
        queue.append(4)
        print(queue.popleft(), list(queue))
        """,
    ),
    "the math module": (
        r"""
        import math
        print(math.sqrt(16), math.floor(2.7), math.ceil(2.1))
        """,
        r"""
        import math
        print(math.gcd(12, 18), math.comb(5, 2))
        """,
        r"""
        import math
        print(round(math.pi, 4), math.hypot(3, 4))
        """,
    ),
    "random numbers": (
        r"""
        import random
        rng = random.Random(42)
        print([rng.randint(1, 6) for _ in range(5)])
        """,
        r"""
        import random
        rng = random.Random(7)
        print(rng.choice(["rock", "paper", "scissors"]))
        """,
        r"""
        import random
        rng = random.Random(1)
        cards = [1, 2, 3, 4, 5]
        rng.shuffle(cards)
        print(cards)
        """,
    ),
    "dates and times": (
        r"""
        from datetime import date, timedelta
        start = date(2024, 1, 30)
        print(start + timedelta(days=3))
        """,
        r"""
        from datetime import date
        print((date(2024, 12, 25) - date(2024, 12, 1)).days)
        """,
        r"""
        import calendar
        from datetime import date
        print(calendar.isleap(2024), date(2024, 7, 4).strftime("%A"))
        """,
    ),
    "JSON": (
        r"""
        import json
        data = {"name": "Ada", "languages": ["python", "c"]}
        text = json.dumps(data)
        print(text)
        """,
        r"""
        import json
        record = json.loads('{"id": 7, "tags": ["a", "b"], "active": true}')
        print(record["tags"], record["active"])
        """,
        r"""
        import json
        print(json.dumps({"b": 1, "a": [1, 2]}, indent=2, sort_keys=True))
        """,
    ),
    "CSV files": (
        r"""
        import csv
        import io

        file = io.StringIO("name,score\nada,90\nalan,85\n")
        for row in csv.reader(file):
            print(row)
        """,
        r"""
        import csv
        import io

        file = io.StringIO("name,score\nada,90\nalan,85\n")
        for row in csv.DictReader(file):
            print(row["name"], int(row["score"]) + 5)
        """,
        r"""
        import csv
        import io

        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["city", "population"])
        writer.writerow(["Oslo", 709000])
        print(out.getvalue(), end="")
        """,
    ),
    "unit testing with assert": (
        r"""
        def add(a, b):
            return a + b

        assert add(2, 3) == 5
        assert add(-1, 1) == 0
        print("all tests passed")
        """,
        r"""
        def is_even(n):
            return n % 2 == 0

        try:
            assert is_even(3), "3 is not even"
        except AssertionError as error:
            print("failed:", error)
        """,
    ),
    "doctest": (
        r'''
        import doctest

        docstring = """
        >>> 2 + 2
        4
        >>> "ab" * 2
        'abab'
        """
        for example in doctest.DocTestParser().get_examples(docstring):
            print(example.source.strip(), "->", example.want.strip())
        ''',
        r'''
        import doctest

        def double(n):
            """
            >>> double(4)
            8
            """
            return n * 2

        doctest.run_docstring_examples(double, {"double": double})
        print("no output means every example passed")
        ''',
    ),
    "debugging strategies": (
        r"""
        total = 0
        for n in [3, 5, 8]:
            total += n
            print(f"{n=} {total=}")
        """,
        r"""
        value = "42"
        print(type(value), repr(value))
        print(int(value) + 1)
        """,
        r"""
        def average(values):
            assert values, "values must not be empty"
            return sum(values) / len(values)

        print(average([2, 4]))
        """,
    ),
    "code style and PEP 8": (
        r"""
        import keyword
        print(keyword.iskeyword("class"), keyword.iskeyword("klass"))
        """,
        r"""
        print("total_price".isidentifier(), "2nd_place".isidentifier())
        """,
        r'''
        def average_score(scores):
            """Return the mean of a non-empty list of scores."""
            return sum(scores) / len(scores)

        print(average_score([80, 90]))
        print(average_score.__doc__)
        ''',
    ),
    "algorithms and their running time": (
        r"""
        def count_steps(n):
            steps = 0
            for i in range(n):
                for j in range(n):
                    steps += 1
            return steps

        print(count_steps(10), count_steps(20))
        """,
        r"""
        def halvings(n):
            steps = 0
            while n > 1:
                n //= 2
                steps += 1
            return steps

        print(halvings(1000), halvings(1000000))
        """,
    ),
    "big-O notation": (
        r"""
        for n in [10, 100, 1000]:
            print(n, n * n, n.bit_length())
        """,
        r"""
        def linear_steps(items, target):
            for steps, item in enumerate(items, 1):
                if item == target:
                    return steps

        print(linear_steps(list(range(1000)), 999))
        """,
    ),
    "linear search": (
        r"""
        def linear_search(items, target):
            for index, item in enumerate(items):
                if item == target:
                    return index
            return -1

        print(linear_search([4, 8, 15, 16], 15))
        print(linear_search([4, 8], 42))
        """,
        r"""
        names = ["ada", "alan", "grace"]
        print(names.index("grace"), "linus" in names)
        """,
    ),
    "binary search": (
        r"""
        import bisect
        scores = [10, 20, 30, 40]
        print(bisect.bisect_left(scores, 30), bisect.bisect_right(scores, 30))
        """,
        r"""
        def binary_search(items, target):
            low, high = 0, len(items) - 1
            while low <= high:
                mid = (low + high) // 2
                if items[mid] == target:
                    return mid
                if items[mid] < target:
                    low = mid + 1
                else:
                    high = mid - 1
            return -1

        print(binary_search([2, 5, 8, 12, 16], 12))
        """,
        r"""
        import bisect
        ages = [12, 18, 30]
        bisect.insort(ages, 21)
        print(ages)
        """,
    ),
    "sorting algorithms": (
        r"""
        def insertion_sort(items):
            items = list(items)
            for i in range(1, len(items)):
                j = i
                while j > 0 and items[j - 1] > items[j]:
                    items[j - 1], items[j] = items[j], items[j - 1]
                    j -= 1
            return items

        print(insertion_sort([5, 2, 9, 1]))
        """,
        r"""
        numbers = [5, 2, 9, 1]
        print(sorted(numbers), sorted(numbers, reverse=True))
        print(numbers)
        """,
        r"""
        people = [("ada", 36), ("alan", 41), ("ben", 36)]
        people.sort(key=lambda p: (p[1], p[0]))
        print(people)
        """,
    ),
    "stacks": (
        r"""
        stack = []
        stack.append("a")
        stack.append("b")
        print(stack.pop(), stack)
        """,
        r"""
        def reverse(text):
            stack = list(text)
            result = ""
            while stack:
                result += stack.pop()
            return result

        print(reverse("stack"))
        """,
        r"""
        def balanced(text):
            stack = []
            for ch in text:
                if ch == "(":
                    stack.append(ch)
                elif ch == ")":
                    if not stack:
                        return False
                    stack.pop()
            return not stack

        print(balanced("(a(b))"), balanced("(()"))
        """,
    ),
    "queues": (
        r"""
        from collections import deque
        queue = deque()
        queue.append("first")
        queue.append("second")
        print(queue.popleft(), list(queue))
        """,
        r"""
        from collections import deque
        recent = deque(maxlen=3)
        for n in range(6):
            recent.append(n)
        print(list(recent))
        """,
    ),
    "linked lists": (
        r"""
        class Node:
            def __init__(self, value, next=None):
                self.value = value
                self.next = next

        head = Node(1, Node(2, Node(3)))
        node = head
        while node:
            print(node.value)
            node = node.next
        """,
        r"""
        class Node:
            def __init__(self, value, next=None):
                self.value, self.next = value, next

        def length(node):
            return 0 if node is None else 1 + length(node.next)

        print(length(Node("a", Node("b"))))
        """,
    ),
    "hash tables": (
        r"""
        buckets = [[] for _ in range(4)]
        for key in [10, 7, 14, 3]:
            buckets[key % 4].append(key)
        print(buckets)
        """,
        r"""
        phone_book = {"ada": "555-0101"}
        phone_book["alan"] = "555-0199"
        print(phone_book.get("alan"), "grace" in phone_book)
        """,
        r"""
        print(hash(42) == hash(42), hash(1) == hash(1.0))
        """,
    ),
    "trees and tree traversal": (
        r"""
        tree = {"value": 1, "children": [
            {"value": 2, "children": []},
            {"value": 3, "children": [{"value": 4, "children": []}]},
        ]}

        def total(node):
            return node["value"] + sum(total(c) for c in node["children"])

        print(total(tree))
        """,
        r"""
        class Node:
            def __init__(self, value, left=None, right=None):
                self.value, self.left, self.right = value, left, right

        def in_order(node):
            if node:
                yield from in_order(node.left)
                yield node.value
                yield from in_order(node.right)

        print(list(in_order(Node(2, Node(1), Node(3)))))
        """,
    ),
    "binary search trees": (
        r"""
        def insert(node, value):
            if node is None:
                return {"value": value, "left": None, "right": None}
            side = "left" if value < node["value"] else "right"
            node[side] = insert(node[side], value)
            return node

        def contains(node, value):
            while node:
                if value == node["value"]:
                    return True
                node = node["left"] if value < node["value"] else node["right"]
            return False

        root = None
        for v in [8, 3, 10, 1, 6]:
            root = insert(root, v)
        print(contains(root, 6), contains(root, 7))
        """,
        r"""
        def in_order(node):
            return [] if node is None else in_order(node[0]) + [node[1]] + in_order(node[2])

        tree = ((None, 1, None), 3, (None, 6, None))
        print(in_order(tree))
        """,
    ),
    "heaps and priority queues": (
        r"""
        import heapq
        heap = []
        for n in [5, 1, 8, 3]:
            heapq.heappush(heap, n)
        print(heapq.heappop(heap), heapq.heappop(heap))
        """,
        r"""
        import heapq
        tasks = [(2, "write"), (1, "plan"), (3, "test")]
        heapq.heapify(tasks)
        while tasks:
            print(heapq.heappop(tasks))
        """,
        r"""
        import heapq
        print(heapq.nsmallest(2, [7, 3, 9, 1]), heapq.nlargest(2, [7, 3, 9, 1]))
        """,
    ),
    "graphs and breadth-first search": (
        r"""
        from collections import deque

        graph = {"a": ["b", "c"], "b": ["d"], "c": ["d"], "d": []}

        def bfs(start):
            seen, queue, order = {start}, deque([start]), []
            while queue:
                node = queue.popleft()
                order.append(node)
                for nxt in graph[node]:
                    if nxt not in seen:
                        seen.add(nxt)
                        queue.append(nxt)
            return order

        print(bfs("a"))
        """,
        r"""
        from graphlib import TopologicalSorter
        steps = {"bake": {"mix"}, "mix": {"buy"}, "buy": set()}
        print(list(TopologicalSorter(steps).static_order()))
        """,
    ),
    "depth-first search": (
        r"""
        graph = {"a": ["b", "c"], "b": ["d"], "c": [], "d": []}

        def dfs(node, seen=None):
            seen = [] if seen is None else seen
            seen.append(node)
            for nxt in graph[node]:
                if nxt not in seen:
                    dfs(nxt, seen)
            return seen

        print(dfs("a"))
        """,
        r"""
        grid = ["#..", "#.#", "..."]

        def reachable(start):
            stack, seen = [start], {start}
            while stack:
                r, c = stack.pop()
                for nr, nc in [(r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)]:
                    if 0 <= nr < 3 and 0 <= nc < 3 and grid[nr][nc] == "." and (nr, nc) not in seen:
                        seen.add((nr, nc))
                        stack.append((nr, nc))
            return len(seen)

        print(reachable((0, 1)))
        """,
    ),
    "dynamic programming": (
        r"""
        def climb(n):
            ways = [1, 1]
            for i in range(2, n + 1):
                ways.append(ways[i - 1] + ways[i - 2])
            return ways[n]

        print(climb(5), climb(10))
        """,
        r"""
        from functools import lru_cache

        @lru_cache(maxsize=None)
        def fib(n):
            return n if n < 2 else fib(n - 1) + fib(n - 2)

        print(fib(50))
        """,
        r"""
        def min_coins(coins, amount):
            best = [0] + [amount + 1] * amount
            for a in range(1, amount + 1):
                for c in coins:
                    if c <= a:
                        best[a] = min(best[a], best[a - c] + 1)
            return best[amount]

        print(min_coins([1, 3, 4], 6))
        """,
    ),
    "greedy algorithms": (
        r"""
        def make_change(amount, coins=(25, 10, 5, 1)):
            result = []
            for coin in coins:
                count, amount = divmod(amount, coin)
                result += [coin] * count
            return result

        print(make_change(68))
        """,
        r"""
        meetings = [(1, 4), (3, 5), (0, 6), (5, 7), (8, 9)]
        chosen, end = [], 0
        for start, finish in sorted(meetings, key=lambda m: m[1]):
            if start >= end:
                chosen.append((start, finish))
                end = finish
        print(chosen)
        """,
    ),
    "divide and conquer": (
        r"""
        def merge_sort(items):
            if len(items) <= 1:
                return items
            mid = len(items) // 2
            left, right = merge_sort(items[:mid]), merge_sort(items[mid:])
            merged = []
            while left and right:
                merged.append(left.pop(0) if left[0] <= right[0] else right.pop(0))
            return merged + left + right

        print(merge_sort([5, 2, 9, 1, 6]))
        """,
        r"""
        def biggest(items):
            if len(items) == 1:
                return items[0]
            mid = len(items) // 2
            return max(biggest(items[:mid]), biggest(items[mid:]))

        print(biggest([3, 17, 4, 9]))
        """,
    ),
    "prime numbers": (
        r"""
        import math

        def is_prime(n):
            if n < 2:
                return False
            return all(n % d for d in range(2, math.isqrt(n) + 1))

        print([n for n in range(20) if is_prime(n)])
        """,
        r"""
        def sieve(limit):
            flags = [True] * (limit + 1)
            flags[0] = flags[1] = False
            for n in range(2, int(limit ** 0.5) + 1):
                if flags[n]:
                    flags[n * n::n] = [False] * len(flags[n * n::n])
            return [n for n, is_p in enumerate(flags) if is_p]

        print(sieve(30))
        """,
    ),
    "greatest common divisor": (
        r"""
        def gcd(a, b):
            while b:
                a, b = b, a % b
            return a

        print(gcd(48, 18))
        """,
        r"""
        import math
        print(math.gcd(48, 18), math.lcm(4, 6))
        """,
        r"""
        from fractions import Fraction
        print(Fraction(18, 48))
        """,
    ),
    "bit manipulation": (
        r"""
        print(0b1010 & 0b0110, 0b1010 | 0b0110, 0b1010 ^ 0b0110)
        """,
        r"""
        n = 1
        print(n << 4, 100 >> 2)
        """,
        r"""
        flags = 0
        flags |= 1 << 2
        print(bin(flags), bool(flags & (1 << 2)), (255).bit_count())
        """,
    ),
    "number bases: binary and hexadecimal": (
        r"""
        print(bin(10), hex(255), oct(8))
        """,
        r"""
        print(int("1010", 2), int("ff", 16), int("0x1f", 16))
        """,
        r"""
        print(f"{42:b} {42:x} {42:08b}")
        """,
    ),
    "matrices as lists of lists": (
        r"""
        matrix = [[1, 2, 3], [4, 5, 6]]
        print(matrix[1][2])
        print([list(row) for row in zip(*matrix)])
        """,
        r"""
        a = [[1, 2], [3, 4]]
        b = [[5, 6], [7, 8]]
        print([[x + y for x, y in zip(ra, rb)] for ra, rb in zip(a, b)])
        """,
        r"""
        grid = [[0] * 3 for _ in range(2)]
        grid[0][1] = 9
        print(grid)
        print([sum(row) for row in grid])
        """,
    ),
    "string algorithms: palindromes and anagrams": (
        r"""
        def is_palindrome(text):
            letters = [c.lower() for c in text if c.isalnum()]
            return letters == letters[::-1]

        print(is_palindrome("Never odd or even"), is_palindrome("python"))
        """,
        r"""
        from collections import Counter
        print(Counter("listen") == Counter("silent"))
        print(sorted("listen") == sorted("enlist"))
        """,
    ),
    "parsing text": (
        r"""
        line = "name=Ada; age=36; city=London"
        record = dict(part.split("=") for part in line.split("; "))
        print(record)
        """,
        r"""
        key, _, value = "timeout: 30".partition(": ")
        print(key, int(value) * 2)
        """,
        r"""
        import shlex
        print(shlex.split('copy "my file.txt" backup/'))
        """,
        r"""
        import re
        print(re.findall(r"(\w+)=(\d+)", "x=1, y=22, z=333"))
        """,
    ),
    "simulation with random numbers": (
        r"""
        import random
        rng = random.Random(3)
        rolls = [rng.randint(1, 6) for _ in range(1000)]
        print(rolls.count(6), round(sum(rolls) / len(rolls), 2))
        """,
        r"""
        import random
        rng = random.Random(12)
        inside = sum(1 for _ in range(10000) if rng.random() ** 2 + rng.random() ** 2 <= 1)
        print(4 * inside / 10000)
        """,
        r"""
        import random
        rng = random.Random(5)
        position = 0
        for _ in range(20):
            position += rng.choice([-1, 1])
        print(position)
        """,
    ),
    "memoization": (
        r"""
        calls = 0
        cache = {}

        def slow_square(n):
            global calls
            if n not in cache:
                calls += 1
                cache[n] = n * n
            return cache[n]

        for n in [3, 3, 4, 3]:
            slow_square(n)
        print(calls, cache)
        """,
        r"""
        from functools import cache

        @cache
        def paths(rows, cols):
            if rows == 1 or cols == 1:
                return 1
            return paths(rows - 1, cols) + paths(rows, cols - 1)

        print(paths(10, 10))
        print(paths.cache_info().currsize)
        """,
    ),
    "immutability": (
        r"""
        point = (3, 4)
        try:
            point[0] = 5
        except TypeError as error:
            print(error)
        """,
        r"""
        name = "ada"
        upper = name.upper()
        print(name, upper)
        """,
        r"""
        colours = frozenset([3, 1, 2])
        print(sorted(colours), 2 in colours)
        """,
    ),
    "state machines": (
        r"""
        from enum import Enum

        class Light(Enum):
            RED = "red"
            GREEN = "green"
            YELLOW = "yellow"

        NEXT = {Light.RED: Light.GREEN, Light.GREEN: Light.YELLOW, Light.YELLOW: Light.RED}
        state = Light.RED
        for _ in range(4):
            print(state.value)
            state = NEXT[state]
        """,
        r"""
        transitions = {("locked", "coin"): "open", ("open", "push"): "locked"}
        state = "locked"
        for event in ["push", "coin", "push"]:
            state = transitions.get((state, event), state)
            print(event, "->", state)
        """,
    ),
}

PITFALLS: dict[str, tuple[str, str, str]] = {  # topic -> (wrong script, right script, the lesson)
    "variables and assignment": (
        r"""
        a, b = 1, 2
        a = b
        b = a
        print(a, b)
        """,
        r"""
        a, b = 1, 2
        a, b = b, a
        print(a, b)
        """,
        "Assigning one name at a time overwrites `a` before its old value is saved. Tuple assignment "
        "evaluates the whole right-hand side first, so the swap works.",
    ),
    "lists": (
        r"""
        original = [1, 2, 3]
        copy = original
        copy.append(4)
        print(original)
        """,
        r"""
        original = [1, 2, 3]
        copy = original.copy()
        copy.append(4)
        print(original, copy)
        """,
        "Assignment never copies a list: both names refer to the same object, so changing one changes 'both'. "
        "Call `.copy()` (or slice with `[:]`) when you need an independent list.",
    ),
    "default and keyword arguments": (
        r"""
        def add_item(item, basket=[]):
            basket.append(item)
            return basket

        print(add_item("apple"))
        print(add_item("pear"))
        """,
        r"""
        def add_item(item, basket=None):
            if basket is None:
                basket = []
            basket.append(item)
            return basket

        print(add_item("apple"))
        print(add_item("pear"))
        """,
        "A default value is created once, when the function is defined, so a mutable default is shared by "
        "every call. Use `None` as the default and create a fresh list inside the function.",
    ),
    "floating point numbers and rounding": (
        r"""
        print(0.1 + 0.2 == 0.3)
        """,
        r"""
        import math
        print(math.isclose(0.1 + 0.2, 0.3))
        """,
        "Most decimal fractions have no exact binary representation, so results carry tiny errors. Compare "
        "floats with a tolerance, as `math.isclose` does, never with `==`.",
    ),
    "integer division and remainders": (
        r"""
        pizzas = 7
        people = 2
        print("each gets", pizzas / people, "whole pizzas")
        """,
        r"""
        pizzas = 7
        people = 2
        whole, left = divmod(pizzas, people)
        print("each gets", whole, "whole pizzas;", left, "left over")
        """,
        "`/` always gives a float. When you need whole units and a remainder, use `//` and `%`, or `divmod`, "
        "which returns both.",
    ),
    "booleans and comparisons": (
        r"""
        colour = "green"
        if colour == "red" or "blue":
            print("primary colour")
        else:
            print("not primary")
        """,
        r"""
        colour = "green"
        if colour in ("red", "blue", "yellow"):
            print("primary colour")
        else:
            print("not primary")
        """,
        '`colour == "red" or "blue"` means `(colour == "red") or "blue"`, and a non-empty string is always '
        "true. Compare against each value, or test membership with `in`.",
    ),
    "strings and string methods": (
        r"""
        name = "ada"
        name.upper()
        print(name)
        """,
        r"""
        name = "ada"
        name = name.upper()
        print(name)
        """,
        "Strings are immutable: string methods return a new string and leave the original alone. Keep the "
        "result by assigning it.",
    ),
    "string formatting with f-strings": (
        r"""
        price = 3.5
        print(f"Total: {price}")
        """,
        r"""
        price = 3.5
        print(f"Total: {price:.2f}")
        """,
        "An f-string shows a float with as many digits as it needs. A format specification such as `:.2f` "
        "fixes the number of decimals.",
    ),
    "for loops and range": (
        r"""
        days = list(range(1, 7))
        print(days, len(days))
        """,
        r"""
        days = list(range(1, 8))
        print(days, len(days))
        """,
        "`range` stops before its end value: to count from 1 to 7, write `range(1, 8)`.",
    ),
    "while loops": (
        r"""
        count = 3
        while count > 1:
            print(count)
            count -= 1
        """,
        r"""
        count = 3
        while count >= 1:
            print(count)
            count -= 1
        """,
        "The condition decides the last pass through the loop. Check it against the last value you expect, "
        "not just the first.",
    ),
    "tuples and unpacking": (
        r"""
        single = (5)
        print(type(single).__name__)
        """,
        r"""
        single = (5,)
        print(type(single).__name__, len(single))
        """,
        "Parentheses alone only group an expression; the comma makes a tuple.",
    ),
    "dictionaries": (
        r"""
        stock = {"apples": 3, "pears": 5}
        print(3 in stock)
        """,
        r"""
        stock = {"apples": 3, "pears": 5}
        print("apples" in stock, 3 in stock.values())
        """,
        "`in` on a dictionary looks at its keys. Use `.values()` or `.items()` to search the values.",
    ),
    "dictionary comprehensions": (
        r"""
        colours = {"sky": "blue", "sea": "blue", "grass": "green"}
        by_colour = {v: k for k, v in colours.items()}
        print(by_colour)
        """,
        r"""
        colours = {"sky": "blue", "sea": "blue", "grass": "green"}
        by_colour = {}
        for thing, colour in colours.items():
            by_colour.setdefault(colour, []).append(thing)
        print(by_colour)
        """,
        "A dictionary keeps one value per key, so inverting a mapping whose values repeat silently loses "
        "entries. Collect lists of keys instead.",
    ),
    "sets and set operations": (
        r"""
        empty = {}
        print(type(empty).__name__)
        """,
        r"""
        empty = set()
        print(type(empty).__name__, len(empty))
        """,
        "`{}` is an empty dictionary. An empty set is written `set()`.",
    ),
    "list comprehensions": (
        r"""
        grid = [[0] * 3] * 2
        grid[0][0] = 1
        print(grid)
        """,
        r"""
        grid = [[0] * 3 for _ in range(2)]
        grid[0][0] = 1
        print(grid)
        """,
        "Multiplying a list of lists repeats references to one inner list. A comprehension builds a new inner "
        "list for every row.",
    ),
    "matrices as lists of lists": (
        r"""
        matrix = [[0] * 2] * 2
        matrix[1][1] = 5
        print(matrix)
        """,
        r"""
        matrix = [[0] * 2 for _ in range(2)]
        matrix[1][1] = 5
        print(matrix)
        """,
        "`[[0] * 2] * 2` holds the same row twice. Build each row separately, for example with a "
        "comprehension.",
    ),
    "scope and closures": (
        r"""
        adders = [lambda x: x + n for n in range(3)]
        print([add(10) for add in adders])
        """,
        r"""
        adders = [lambda x, n=n: x + n for n in range(3)]
        print([add(10) for add in adders])
        """,
        "A closure looks up `n` when it is called, not when it is created, so every function sees the last "
        "value. A default argument captures the value at creation time.",
    ),
    "lambda functions": (
        r"""
        actions = [lambda: i * 10 for i in range(3)]
        print([act() for act in actions])
        """,
        r"""
        actions = [lambda i=i: i * 10 for i in range(3)]
        print([act() for act in actions])
        """,
        "A lambda reads the variables it uses when it runs. Bind the current value as a default argument.",
    ),
    "sorting algorithms": (
        r"""
        numbers = [3, 1, 2]
        result = numbers.sort()
        print(result)
        """,
        r"""
        numbers = [3, 1, 2]
        result = sorted(numbers)
        print(result)
        """,
        "`list.sort()` sorts in place and returns `None`. `sorted()` returns a new sorted list.",
    ),
    "higher-order functions: map, filter and sorted": (
        r"""
        words = ["banana", "Apple", "cherry"]
        print(sorted(words))
        """,
        r"""
        words = ["banana", "Apple", "cherry"]
        print(sorted(words, key=str.lower))
        """,
        "Strings compare by character code, and capitals come before lowercase letters. A `key` function "
        "decides what is compared.",
    ),
    "generators and yield": (
        r"""
        squares = (n * n for n in range(4))
        print(sum(squares))
        print(sum(squares))
        """,
        r"""
        squares = [n * n for n in range(4)]
        print(sum(squares))
        print(sum(squares))
        """,
        "A generator can be consumed only once; the second pass finds it empty. Keep a list when you need the "
        "values more than once.",
    ),
    "iterators": (
        r"""
        letters = iter("abc")
        print(list(letters))
        print(list(letters))
        """,
        r"""
        letters = "abc"
        print(list(letters))
        print(list(letters))
        """,
        "An iterator remembers its position and is exhausted after one pass. Iterate over the iterable itself "
        "to start again each time.",
    ),
    "classes and objects": (
        r"""
        class Player:
            items = []
            def __init__(self, name):
                self.name = name

        ana, ben = Player("ana"), Player("ben")
        ana.items.append("sword")
        print(ben.items)
        """,
        r"""
        class Player:
            def __init__(self, name):
                self.name = name
                self.items = []

        ana, ben = Player("ana"), Player("ben")
        ana.items.append("sword")
        print(ben.items)
        """,
        "An attribute assigned in the class body belongs to the class and is shared by all instances. Create "
        "per-object data in `__init__`.",
    ),
    "regular expressions": (
        r"""
        import re
        print(re.match(r"\d+", "room 42"))
        """,
        r"""
        import re
        print(re.search(r"\d+", "room 42").group())
        """,
        "`re.match` only matches at the start of the string. `re.search` scans the whole string.",
    ),
    "linear search": (
        r"""
        def find(items, target):
            for i, item in enumerate(items):
                if item == target:
                    return i
                else:
                    return -1

        print(find([4, 8, 15], 15))
        """,
        r"""
        def find(items, target):
            for i, item in enumerate(items):
                if item == target:
                    return i
            return -1

        print(find([4, 8, 15], 15))
        """,
        "Returning from the `else` branch gives up after the first item. Only conclude that the target is "
        "missing after the loop has looked at every item.",
    ),
    "recursion": (
        r"""
        def total(items):
            if len(items) == 1:
                return items[0]
            return items[0] + total(items[1:])

        try:
            print(total([]))
        except IndexError as error:
            print("error:", error)
        """,
        r"""
        def total(items):
            if not items:
                return 0
            return items[0] + total(items[1:])

        print(total([]), total([4, 5]))
        """,
        "Every recursion needs a base case that covers the smallest input, here the empty list.",
    ),
    "memoization": (
        r"""
        calls = 0

        def fib(n):
            global calls
            calls += 1
            return n if n < 2 else fib(n - 1) + fib(n - 2)

        print(fib(20), calls)
        """,
        r"""
        from functools import lru_cache

        calls = 0

        @lru_cache(maxsize=None)
        def fib(n):
            global calls
            calls += 1
            return n if n < 2 else fib(n - 1) + fib(n - 2)

        print(fib(20), calls)
        """,
        "The plain version recomputes the same values again and again. Caching each result makes every value "
        "cost one call.",
    ),
    "dynamic programming": (
        r"""
        def ways(n):
            return 1 if n < 2 else ways(n - 1) + ways(n - 2)

        calls = [0]
        def counted(n):
            calls[0] += 1
            return 1 if n < 2 else counted(n - 1) + counted(n - 2)

        print(ways(15), counted(15), calls[0])
        """,
        r"""
        def ways(n):
            table = [1, 1]
            for i in range(2, n + 1):
                table.append(table[i - 1] + table[i - 2])
            return table[n]

        print(ways(15), "using", 15 - 1, "additions")
        """,
        "Solving overlapping subproblems from scratch makes the work explode; a table of solved subproblems "
        "makes it grow linearly.",
    ),
    "greedy algorithms": (
        r"""
        def greedy_coins(amount, coins=(4, 3, 1)):
            used = []
            for coin in coins:
                while amount >= coin:
                    amount -= coin
                    used.append(coin)
            return used

        print(greedy_coins(6))
        """,
        r"""
        def fewest_coins(amount, coins=(4, 3, 1)):
            best = {0: []}
            for a in range(1, amount + 1):
                best[a] = min((best[a - c] + [c] for c in coins if c <= a), key=len)
            return best[amount]

        print(fewest_coins(6))
        """,
        "Taking the biggest coin first is not always optimal. When a greedy choice can be wrong, compare all "
        "choices, for example with dynamic programming.",
    ),
    "immutability": (
        r"""
        name = "ada"
        try:
            name[0] = "A"
        except TypeError as error:
            print("error:", error)
        """,
        r"""
        name = "ada"
        name = "A" + name[1:]
        print(name)
        """,
        "A string cannot be changed in place. Build a new string and rebind the name.",
    ),
    "enumerate and zip": (
        r"""
        print(list(zip([1, 2, 3], ["a", "b"])))
        """,
        r"""
        from itertools import zip_longest
        print(list(zip_longest([1, 2, 3], ["a", "b"])))
        """,
        "`zip` stops at the shortest input and silently drops the rest. `itertools.zip_longest` keeps going "
        "and fills the gaps.",
    ),
    "queues": (
        r"""
        queue = ["first", "second", "third"]
        print(queue.pop())
        """,
        r"""
        from collections import deque
        queue = deque(["first", "second", "third"])
        print(queue.popleft())
        """,
        "`list.pop()` takes the newest item, which makes a stack. A queue serves the oldest item first: use "
        "`deque.popleft()`.",
    ),
}
TOPIC_ALIASES = {  # more words under which a default topic is found when a prompt names its topic differently
    "variables and assignment": "variable name binding",
    "numbers and arithmetic": "math maths calculation operator integer float",
    "strings and string methods": "text str character",
    "string formatting with f-strings": "format fstring template interpolation",
    "lists": "array sequence",
    "dictionaries": "dict mapping key value lookup",
    "sets and set operations": "union intersection difference membership",
    "functions and parameters": "function argument call def",
    "exceptions and try/except": "error exception handling raise",
    "classes and objects": "class object oop instance",
    "reading and writing text files": "file io read write",
    "regular expressions": "regex re pattern",
    "JSON": "json serialization serialize deserialize api",
    "CSV files": "csv spreadsheet table tabular",
    "unit testing with assert": "test testing unittest pytest",
    "debugging strategies": "debug debugger bug trace",
    "algorithms and their running time": "complexity performance efficiency speed",
    "sorting algorithms": "sort order ordering",
    "hash tables": "hash hashing dictionary lookup",
    "trees and tree traversal": "tree node traversal",
    "graphs and breadth-first search": "graph network path bfs",
    "depth-first search": "dfs backtracking maze",
    "dynamic programming": "dp optimization subproblem",
    "matrices as lists of lists": "matrix grid table 2d",
    "string algorithms: palindromes and anagrams": "palindrome anagram string algorithm",
    "parsing text": "parse parser tokenize",
    "memoization": "cache caching memo",
    "random numbers": "random randomness probability dice",
    "dates and times": "date time calendar datetime",
}
ECHO_LESSON = ("A script does not show the value of an expression the way the interactive `>>>` prompt does: "
               "the first version computes its results and throws them away. Pass each result you want to see "
               "to `print()`.")
FALLBACK_TOPICS = ("lists", "for loops and range", "strings and string methods", "dictionaries")
"""Where a section draws its examples when nothing in the index matches its topic."""


@dataclass(frozen=True)
class Pitfall:
    wrong: Example
    right: Example
    lesson: str


@dataclass(frozen=True)
class Library:
    """Everything the textbook generator quotes, verified once: documentation by material key, the examples
    and pitfalls of the default topics, and a keyword index over materials and default topics."""

    materials: dict[str, Material]
    topic_examples: dict[str, tuple[Example, ...]]
    pitfalls: dict[str, Pitfall]
    rejected: tuple[str, ...]  # written examples that failed to run: none, unless a Python version changes them
    silenced: dict[Example, Example]  # an example -> the same without print(), for the "first attempt" of a section
    postings: dict[str, list[tuple[str, float]]] = field(repr=False)  # stem -> (material key or topic, weight)

    def best_matches(self, topic: str) -> tuple[list[Material], str | None]:
        """The materials (at most 3) and the default topic that share the most words with `topic`; without such a
        topic, the first default topic that quotes one of those materials."""
        scores: dict[str, float] = defaultdict(float)
        for stem in set(stems(topic)):
            postings = self.postings.get(stem, ())
            idf = math.log((len(self.materials) + len(TOPIC_MATERIAL)) / (1 + len(postings)))
            for key, weight in postings:
                scores[key] += idf * weight
        ranked = sorted(scores, key=lambda k: (-scores[k], k))
        materials = [self.materials[k] for k in ranked if k in self.materials][:3]
        best_topic = next((k.removeprefix("topic:") for k in ranked if k.startswith("topic:")), None)
        if best_topic is None:
            best_topic = next((t for m in materials for t, keys in TOPIC_MATERIAL.items() if m.key in keys), None)
        return materials, best_topic


_STOP_WORDS = frozenset(
    "a an and are as at be by can do for from how in into is it its of on or the this that to use using what when "
    "with your you python programming program introduction basic basics advanced".split()
)


def stems(text: str) -> list[str]:
    """Crude stems of the words of `text` (plural, -ing and -ed endings and a final e removed), without stop words."""
    result = []
    for word in re.findall(r"[a-z][a-z0-9]*", text.lower().replace("_", " ")):
        if word in _STOP_WORDS:
            continue
        if word.endswith("ies") and len(word) > 4:
            word = word[:-3] + "y"
        elif re.search(r"(s|x|ch|sh)es$", word):
            word = word[:-2]
        elif word.endswith("s") and not word.endswith("ss") and len(word) > 3:
            word = word[:-1]
        for suffix in ("ing", "ed"):
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)]
        result.append(word.removesuffix("e") if len(word) > 3 else word)
    return result


def script(text: str) -> str:
    """A script written indented inside a table (TOPIC_EXAMPLES, PITFALLS), as code."""
    return textwrap.dedent(text).strip("\n")


def _silence(example: Example) -> Example | None:
    """`example` with each one-line top-level `print(x)` turned into a bare `x`, as someone used to the `>>>`
    prompt might write it, and what that prints (often nothing); None if it has no such line."""
    lines = example.code.splitlines()
    for node in ast.parse(example.code).body:
        call = node.value if isinstance(node, ast.Expr) else None
        if (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "print"
                and len(call.args) == 1 and not call.keywords and node.lineno == node.end_lineno):
            line = lines[node.lineno - 1]
            argument = ast.get_source_segment(example.code, call.args[0])
            lines[node.lineno - 1] = f"{line[: node.col_offset]}{argument}{line[node.end_col_offset:]}"
    code = "\n".join(lines)
    output = run_script(code) if code != example.code else None
    return Example(code, output) if output is not None else None


def _postings(materials: dict[str, Material]) -> dict[str, list[tuple[str, float]]]:
    """stem -> (key, weight): 3 for a word of a material's or default topic's name, 1 for one of its summary."""
    postings: dict[str, list[tuple[str, float]]] = defaultdict(list)
    documents = [(key, m.key, m.summary) for key, m in materials.items()]
    documents += [(f"topic:{topic}", f"{topic} {TOPIC_ALIASES.get(topic, '')}", "") for topic in TOPIC_MATERIAL]
    for key, name, summary in documents:
        name_stems = set(stems(name.removeprefix("ref:")))
        for stem in name_stems:
            postings[stem].append((key, 3.0))
        for stem in set(stems(summary)) - name_stems:
            postings[stem].append((key, 1.0))
    return dict(postings)


def _build_library() -> Library:
    from pydoc_data.topics import topics as reference  # the language reference as pydoc shows it

    with warnings.catch_warnings():  # deprecated names in typing and friends warn when read
        warnings.simplefilter("ignore")
        modules = [importlib.import_module(name) for name in SAFE_MODULES]
        found = [*_builtin_materials(), *(m for module in modules for m in _module_materials(module))]
        found += [_reference_material(name, text) for name, text in sorted(reference.items())]
        materials = {m.key: m for m in found if m and m.summary}
        rejected: list[str] = []
        topic_examples: dict[str, tuple[Example, ...]] = {}
        for topic, scripts in TOPIC_EXAMPLES.items():
            outputs = [(code, run_script(code)) for code in map(script, scripts)]
            rejected += [code for code, output in outputs if not (output and output.strip())]
            topic_examples[topic] = tuple(Example(code, out) for code, out in outputs if out and out.strip())
        pitfalls: dict[str, Pitfall] = {}
        for topic, (wrong, right, lesson) in PITFALLS.items():
            wrong, right = script(wrong), script(right)
            wrong_output, right_output = run_script(wrong), run_script(right)
            if wrong_output and right_output:
                pitfalls[topic] = Pitfall(Example(wrong, wrong_output), Example(right, right_output), lesson)
            else:
                rejected += [wrong, right]
        examples = [e for m in materials.values() for e in m.examples]
        examples += [e for written in topic_examples.values() for e in written]
        silenced = {e: quiet for e in examples if (quiet := _silence(e))}
    return Library(materials, topic_examples, pitfalls, tuple(rejected), silenced, _postings(materials))


_library_lock = threading.Lock()


@lru_cache(maxsize=1)
def _cached_library() -> Library:
    return _build_library()


def library() -> Library:
    """The verified material, built on first use (well under a second) and kept for the life of the process."""
    with _library_lock:  # concurrent first callers wait for one build
        return _cached_library()


# --- textbook sections ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Voice:
    """How a section talks to one class of audience: templates with {topic}, {Topic}, {audience}, {source}."""

    intros: tuple[str, ...]
    motivations: tuple[str, ...]
    doc_leads: tuple[str, ...]
    doc_follow_ups: tuple[str, ...]
    example_leads: tuple[str, ...]
    output_notes: tuple[str, ...]
    closings: tuple[str, ...]
    quoted_sentences: int  # how much of a documentation paragraph to quote
    show_signatures: bool


VOICES: dict[str, Voice] = {
    "child": Voice(
        intros=(
            "Let's learn about {topic}! A computer follows instructions one at a time. Today you will give Python "
            "some new instructions and watch what happens.",
            "This part of the book is about {topic}. It may sound hard. It is not! We will take tiny steps, and "
            "every step has a program you can try.",
            "Ready for something new? Today's topic is {topic}. Programmers use it all the time. Soon you will "
            "too.",
        ),
        motivations=(
            "Why learn this? It lets you tell the computer exactly what you want, with fewer words.",
            "Knowing this is like having a new tool in your toolbox.",
            "Once you know it, lots of puzzles get easier.",
        ),
        doc_leads=(
            "Python comes with its own help pages. Here is what {source} says:",
            "Grown-up programmers read the documentation. This is {source}:",
        ),
        doc_follow_ups=(
            "Those are big words. Don't worry! The examples show what they mean.",
            "You don't need every word. Watch what the code does instead.",
        ),
        example_leads=("Type this into Python:", "Try this little program:", "Here is something to try:",
                       "Let's test it:"),
        output_notes=(
            "Did you get the same? Now change a number and run it again.",
            "Look at each line of the output. Can you find the line of code that printed it?",
            "Cool, right? Change something and see what happens.",
        ),
        closings=(
            "Great job! You just learned about {topic}.",
            "Well done! Next time you see {topic}, you will know what it means.",
            "You did it! Try to make up your own program about {topic}.",
        ),
        quoted_sentences=1,
        show_signatures=False,
    ),
    "beginner": Voice(
        intros=(
            "In this section you will learn about {topic}. We start with the idea, then look at short programs "
            "you can run yourself, and finish with what to remember.",
            "This section's topic, {topic}, is one of the building blocks you will use again and again. We "
            "explain the idea, show how it behaves in real code, and point out the details that often trip up "
            "new programmers.",
            "If you are {audience}, this section on {topic} is a good next step. Read the explanation, run every "
            "example, and compare what you see with the output shown here.",
        ),
        motivations=(
            "Understanding this well makes the code you read and write clearer.",
            "Most real programs rely on it, so it pays to learn it properly.",
            "It is worth the effort: many later topics build on this one.",
        ),
        doc_leads=("The official Python documentation describes it like this, in {source}:",
                   "Here is what {source} says:", "Let's start from {source}:"),
        doc_follow_ups=("The examples below make this concrete.",
                        "In plain words: run the examples below and you will see exactly what this means.",
                        "Read that once, then come back to it after the examples."),
        example_leads=("Run this program:", "Here is a short example:", "Consider the following code:",
                       "Try it yourself:"),
        output_notes=(
            "Make sure you can explain each line of the output before moving on.",
            "Change the values and predict the new output before you run it again.",
            "Notice how the printed result follows directly from the code.",
        ),
        closings=(
            "Practise by writing a small program of your own that uses {topic}.",
            "Once these examples feel familiar, try combining {topic} with what you learned earlier.",
            "The best way to remember {topic} is to use it: change the examples and see what breaks.",
        ),
        quoted_sentences=2,
        show_signatures=True,
    ),
    "practitioner": Voice(
        intros=(
            "If you are {audience}, you have probably done this kind of work by hand or in a spreadsheet. This "
            "section shows how Python handles {topic}, in code you can rerun on new data at any time.",
            "The need for {topic} comes up whenever you process data in scripts. This section shows the relevant "
            "tools, with examples small enough to check by eye.",
            "This section covers {topic} with a practical eye: what the tools do, what they return, and how to "
            "check the results.",
        ),
        motivations=(
            "Scripts built on these tools are shorter, easier to check and easy to rerun when the data changes.",
            "Getting this right protects your results from silent errors.",
        ),
        doc_leads=("The reference documentation, in {source}, says:", "From {source}:"),
        doc_follow_ups=("The examples below show exactly what comes back.",
                        "Keep that definition in mind when you read the outputs below."),
        example_leads=("For example:", "A small, reproducible example:", "Here it is on a tiny data set:"),
        output_notes=(
            "Check the output against what you would expect from a manual calculation.",
            "With real data, the same code works unchanged on thousands of rows.",
        ),
        closings=(
            "Try {topic} on a small slice of your own data first, and compare the result with a calculation you "
            "trust.",
            "Put the code for {topic} in a function, test it on a tiny input you can check by hand, then run it on "
            "the full data.",
        ),
        quoted_sentences=3,
        show_signatures=True,
    ),
    "teacher": Voice(
        intros=(
            "This section is written so that you can turn it into a lesson on {topic}: a short explanation, "
            "examples students can run, and ways to check understanding.",
            "Teaching {topic} works best with small programs that students predict before running. Every example "
            "below comes with its exact output, so you can ask for a prediction first.",
        ),
        motivations=(
            "Students who understand this have an easier time with everything that builds on it.",
            "It is a good topic for active learning: each example is short enough to trace on a whiteboard.",
        ),
        doc_leads=("A precise definition to share with students, from {source}:",
                   "For your own preparation, here is {source}:"),
        doc_follow_ups=("Ask students to restate this in their own words before you show any code.",
                        "Students rarely read definitions closely; the examples are where it clicks."),
        example_leads=("Show this program and ask what it prints:", "A classroom example:", "Use this as a warm-up:"),
        output_notes=(
            "Ask students which line of code produced each line of output.",
            "A good follow-up: change one value and have students predict the new output.",
        ),
        closings=(
            "To close the lesson, have students write one example of {topic} of their own and explain its output "
            "to a partner.",
            "A quick exit ticket: one program that uses {topic}, and its output predicted before running it.",
        ),
        quoted_sentences=2,
        show_signatures=True,
    ),
    "professional": Voice(
        intros=(
            "This section is a concise reference on {topic} in Python: the exact semantics, the standard-library "
            "tools that implement it, and the trade-offs to keep in mind.",
            "You likely know {topic} from other languages. Here is how Python does it, with the precise behaviour "
            "taken from the documentation and examples verified by running them.",
            "For {audience}, the value here is precision: what the language and the standard library guarantee "
            "about {topic}, and where the edge cases are.",
        ),
        motivations=(
            "Prefer the standard library's tested implementations to hand-rolled ones: they are documented, "
            "usually faster, and consistent at the edges.",
            "Knowing the exact contract, including cost and edge cases, is what separates working code from "
            "correct code.",
        ),
        doc_leads=("The documented contract, from {source}:", "From {source}:"),
        doc_follow_ups=("Note the exact wording: it defines the behaviour at the edges, not just the common case.",
                        "That is the contract; the examples below pin it down."),
        example_leads=("Example:", "Minimal example:", "Consider:"),
        output_notes=(
            "Check the edge cases (empty input, duplicates, negative values) the same way before relying on this.",
            "The output follows directly from the documented behaviour.",
        ),
        closings=(
            "In code reviews and interviews alike, state the behaviour and the cost of the tool you choose for "
            "{topic}, and mention the edge cases.",
            "When performance matters, measure code that uses {topic} with realistic input sizes rather than "
            "guessing.",
        ),
        quoted_sentences=3,
        show_signatures=True,
    ),
}
AUDIENCE_CLASSES = (  # (voice, pattern); the first that matches the audience wins, else "beginner"
    ("child", r"child|kid|year-old|young|primary|elementary"),
    ("teacher", r"teacher|instructor|educator|lesson|tutor"),
    ("practitioner", r"analyst|scientist|researcher|spreadsheet|statistic"),
    ("professional", r"engineer|professional|developer|programmer|interview|senior|expert|experienced|coming from"),
)
STYLE_CLASSES = (  # (layout, pattern); the first that matches the style wins, else "explanation"
    ("qa", r"question|q&a|faq"),
    ("steps", r"step|tutorial|walkthrough"),
    ("story", r"story|character|narrative|tale"),
    ("compare", r"wrong|mistake|pitfall|right approach|versus|comparison"),
    ("lecture", r"lecture|summary"),
)
CHARACTERS = ("Maya", "Leo", "Priya", "Sam", "Aisha", "Tom", "Lena", "Omar", "Zoe", "Ravi", "Nora", "Felix")
PROJECTS = (
    "a website for the school newspaper", "a weather logger for the science club",
    "a scoreboard for a board-game night", "a tool to organise a music collection",
    "a program that tracks a small vegetable garden", "a quiz game for their class",
    "a budget planner for a youth club", "a timetable helper for the local library",
)


def classify(text: str, classes: tuple[tuple[str, str], ...], default: str) -> str:
    return next((name for name, pattern in classes if re.search(pattern, text, re.IGNORECASE)), default)


def _sentences(text: str, count: int) -> str:
    return " ".join(_SENTENCE_END.split(text)[:count])


def _known_topic(topic: str) -> str | None:
    wanted = topic.strip().lower()
    return next((t for t in TOPIC_MATERIAL if t.lower() == wanted), None)


@lru_cache(maxsize=4096)
def _matches(topic: str) -> tuple[tuple[Material, ...], str | None]:
    materials, best_topic = library().best_matches(topic)
    return tuple(materials), best_topic


@dataclass(frozen=True)
class SectionPlan:
    """What a section will say: the documentation it quotes, the examples it shows, the pitfall it contrasts."""

    topic: str
    audience: str
    voice: Voice
    materials: tuple[Material, ...]
    examples: tuple[Example, ...]
    pitfall: Pitfall | None


def plan_section(topic: str, audience: str, rng: random.Random) -> SectionPlan:
    """Choose material for `topic`: the default topic's table entry, else the default topic and documentation
    that share the most words with it (FALLBACK_TOPICS when no topic does); then 2 to 5 examples, mixing
    documentation examples with written ones, and a pitfall for the compare layout."""
    lib = library()
    known = _known_topic(topic)
    if known:
        materials, example_topic = [lib.materials[k] for k in TOPIC_MATERIAL[known] if k in lib.materials], known
    else:
        matched, example_topic = _matches(topic.strip().lower())
        fallback = example_topic is None
        example_topic = rng.choice(FALLBACK_TOPICS) if fallback else example_topic
        related = [lib.materials[k] for k in TOPIC_MATERIAL[example_topic] if k in lib.materials]
        materials = list(dict.fromkeys([*matched, *related] if fallback else [*related, *matched]))
    explained = (materials[:1] + rng.sample(materials[1:], min(len(materials) - 1, rng.randint(1, 2)))
                 if materials else [])
    documented = list(dict.fromkeys(e for m in materials for e in m.examples))
    written = list(lib.topic_examples.get(example_topic, ()))
    wanted = rng.choice((2, 3, 3, 4, 4, 5))
    chosen = [rng.choice(documented)] if documented and (not written or rng.random() < 0.7) else []
    others = [e for e in written + documented if e not in chosen]
    rng.shuffle(others)
    chosen += others[: wanted - len(chosen)]
    if len(chosen) < 2:
        extra = [e for e in lib.topic_examples[rng.choice(FALLBACK_TOPICS)] if e not in chosen]
        chosen += rng.sample(extra, 2 - len(chosen))
    pitfall = lib.pitfalls.get(example_topic)
    if pitfall is None:
        pitfall = next((Pitfall(lib.silenced[e], e, ECHO_LESSON) for e in chosen if e in lib.silenced), None)
    voice = VOICES[classify(audience, AUDIENCE_CLASSES, "beginner")]
    return SectionPlan(topic.strip(), audience.strip(), voice, tuple(explained), tuple(chosen), pitfall)


class SectionWriter:
    """Writes one Markdown section from a plan, in the layout that the style asks for."""

    def __init__(self, plan: SectionPlan, rng: random.Random):
        self.plan, self.rng, self.voice = plan, rng, plan.voice
        self.parts: list[str] = []
        self.used: set[str] = set()
        topic = plan.topic
        self.words = {"topic": topic, "Topic": topic[:1].upper() + topic[1:], "audience": plan.audience}

    def say(self, templates: tuple[str, ...], **extra: str) -> str:
        """One of `templates`, filled in; one not used yet in this section while there is one."""
        fresh = [t for t in templates if t not in self.used] or list(templates)
        template = self.rng.choice(fresh)
        self.used.add(template)
        return template.format(**self.words, **extra)

    def add(self, *parts: str) -> None:
        self.parts.extend(p for p in parts if p)

    def heading(self, level: int, text: str) -> None:
        self.add("#" * level + " " + text)

    def intro(self) -> None:
        text = f"{self.say(self.voice.intros)} {self.say(self.voice.motivations)}"
        language = re.search(r"coming from ([\w+#.-]+)", self.plan.audience, re.IGNORECASE)
        if language:
            name = language.group(1).rstrip(".")
            text += (f" If you know {name}, read each example twice: once to see what it does, and once to spot "
                     f"where Python's rules differ from {name}'s.")
        self.add(text)

    def explain(self, material: Material, follow_up: bool = True) -> None:
        quote = _sentences(material.summary, self.voice.quoted_sentences)
        self.add(self.say(self.voice.doc_leads, source=material.source), f"> {quote}")
        if material.signature and self.voice.show_signatures:
            self.add(f"Its signature is `{material.signature}`.")
        if follow_up and self.rng.random() < 0.6:
            self.add(self.say(self.voice.doc_follow_ups))

    def show(self, example: Example, lead: str | None = None, note: bool = True) -> None:
        self.add(lead if lead is not None else self.say(self.voice.example_leads),
                 f"```python\n{example.code}\n```")
        if example.output:
            self.add("Output:", f"```text\n{example.output.rstrip(chr(10))}\n```")
        else:
            self.add("Running it prints nothing at all.")
        if example.origin:
            self.add(self.say(ORIGIN_NOTES, source=example.origin))
        if note and self.rng.random() < 0.5:
            self.add(self.say(self.voice.output_notes))

    def practice(self) -> None:
        """Two exercises on the examples shown, by their position ("the second example")."""
        count = len(self.plan.examples)
        tasks = self.rng.sample(PRACTICE, 2)
        first, second = self.rng.sample(range(count), 2)
        self.add("\n".join(f"{n}. " + t.format(one=ORDINALS[first], other=ORDINALS[second])
                           for n, t in enumerate(tasks, 1)))

    def summary_points(self) -> None:
        points = [f"- {m.name}: {_sentences(m.summary, 1)}" for m in self.plan.materials]
        points.append(f"- {self.rng.choice(SUMMARY_POINTS)}")
        self.add("\n".join(points), self.say(self.voice.closings))

    def text(self) -> str:
        return "\n\n".join(self.parts) + "\n"


ORIGIN_NOTES = ("*Adapted from {source}, and checked by running it.*", "*Source: {source}.*",
                "*This example comes from {source}; its output was produced by running it.*")
ORDINALS = ("first", "second", "third", "fourth", "fifth")
PRACTICE = (
    "Change one value in the {one} example and predict the new output before you run it.",
    "Close the book and rewrite the {one} example from memory, then compare.",
    "Add a `print()` call to the {one} example that shows a value in the middle of the computation.",
    "Combine the {one} and the {other} example into one program that prints both results.",
    "Explain in one sentence per line what the {one} example does.",
    "Find an input that makes the {one} example print something surprising, and explain why.",
)
SUMMARY_POINTS = (
    "Run every example yourself and compare its output with the one shown.",
    "Small experiments answer most questions faster than guessing: change one thing, run, compare.",
    "Read the documentation of a tool before relying on its edge cases.",
)


def _explanation_layout(w: SectionWriter) -> None:
    w.heading(1, w.words["Topic"])
    w.intro()
    w.heading(2, w.rng.choice(("The idea", "What it is", "Background")))
    for material in w.plan.materials:
        w.explain(material)
    w.heading(2, w.rng.choice(("Worked examples", "Examples", "Seeing it in action")))
    for number, example in enumerate(w.plan.examples, 1):
        w.heading(3, f"Example {number}")
        w.show(example)
    w.heading(2, "Try it yourself")
    w.practice()
    w.heading(2, "Summary")
    w.summary_points()


def _lecture_layout(w: SectionWriter) -> None:
    w.heading(1, f"Lecture: {w.words['topic']}")
    w.intro()
    w.heading(2, "Key ideas")
    examples = list(w.plan.examples)
    for material in w.plan.materials:
        w.explain(material, follow_up=False)
        if examples:
            w.show(examples.pop(0))
    if examples:
        w.heading(2, "More examples")
        for example in examples:
            w.show(example)
    w.heading(2, "Exercises")
    w.practice()
    w.heading(2, "Summary")
    w.summary_points()


def _steps_layout(w: SectionWriter) -> None:
    w.heading(1, f"{w.words['Topic']}: a step-by-step tutorial")
    w.intro()
    step = 1
    for material in w.plan.materials[:1]:
        w.heading(2, f"Step {step}: Read what the documentation says")
        w.explain(material)
        step += 1
    for number, example in enumerate(w.plan.examples):
        title = "Run a first example" if number == 0 else w.rng.choice(
            ("Try another example", "Go one step further", "Look at a variation"))
        w.heading(2, f"Step {step}: {title}")
        w.show(example, lead=w.rng.choice(("Type in the following program and run it.",
                                            "Run this code, then read the output carefully.",
                                            "Next, run this program.")))
        step += 1
    w.heading(2, f"Step {step}: Practise")
    w.practice()
    w.heading(2, f"Step {step + 1}: Check what you learned")
    w.summary_points()


def _story_layout(w: SectionWriter) -> None:
    first, second = w.rng.sample(CHARACTERS, 2)
    project = w.rng.choice(PROJECTS)
    w.heading(1, w.words["Topic"])
    w.intro()
    w.heading(2, "The problem")
    w.add(f"{first} and {second} were building {project}. To finish it, {first} had to use {w.words['topic']}, "
          f"but was not sure how to do that in Python. \"Let's find out properly,\" said {second}.")
    if w.plan.materials:
        w.add(f"{second} opened the Python documentation first.")
        w.explain(w.plan.materials[0], follow_up=False)
        w.add(f"\"That sounds right,\" said {first}, \"but I want to see it work.\"")
    w.heading(2, "Trying it out")
    for number, example in enumerate(w.plan.examples):
        typist = (first, second)[number % 2]
        w.show(example, lead=w.rng.choice((f"{typist} typed:", f"{typist} tried this:",
                                            f"Then {typist} wrote a small test:")), note=False)
        w.add(w.rng.choice((f"{(second, first)[number % 2]} pointed at the output: \"See? It does exactly what "
                            "the code says.\"", f"\"Now I get it,\" said {typist}.",
                            f"They changed a value, ran it again, and {typist} smiled.")))
    w.heading(2, f"What {first} and {second} learned")
    w.summary_points()


def _qa_layout(w: SectionWriter) -> None:
    w.heading(1, f"{w.words['Topic']}: questions and answers")
    w.intro()
    for material in w.plan.materials[:2]:
        w.heading(3, f"Q: What does the documentation say about {material.name}?")
        w.add("**A:** " + w.say(w.voice.doc_leads, source=material.source), f"> {material.summary}")
    questions = ["Can you show me a short example?", "What does this program print?",
                 "How does it look in a slightly bigger program?", "Is there another way to use it?",
                 "What happens with different values?"]
    w.rng.shuffle(questions)
    for question, example in zip(questions, w.plan.examples):
        w.heading(3, f"Q: {question}")
        w.show(example, lead="**A:** " + w.rng.choice(("Here you go:", "Sure. Run this:", "Look at this program:")))
    w.heading(3, "Q: How can I practise?")
    w.practice()
    w.heading(3, "Q: What should I remember?")
    w.summary_points()


def _compare_layout(w: SectionWriter) -> None:
    pitfall = w.plan.pitfall
    if pitfall is None:
        _explanation_layout(w)
        return
    w.heading(1, f"{w.words['Topic']}: a wrong and a right approach")
    w.intro()
    w.heading(2, "A first attempt")
    w.show(pitfall.wrong, lead=w.rng.choice(("Here is how many people first try it:",
                                             "A natural first attempt looks like this:")), note=False)
    w.add(w.rng.choice(("Something is off.", "This is not what we wanted.", "Look closely at the result.")))
    w.heading(2, "A better way")
    w.show(pitfall.right, lead="Now compare with this version:", note=False)
    w.add(f"**Why it matters:** {pitfall.lesson}")
    others = [e for e in w.plan.examples if e not in (pitfall.wrong, pitfall.right)]
    if w.plan.materials or others:
        w.heading(2, "More on the topic")
    for material in w.plan.materials[:1]:
        w.explain(material)
    for example in others[:2]:
        w.show(example)
    w.heading(2, "Summary")
    w.summary_points()


LAYOUTS: dict[str, Callable[[SectionWriter], None]] = {
    "explanation": _explanation_layout, "lecture": _lecture_layout, "steps": _steps_layout,
    "story": _story_layout, "qa": _qa_layout, "compare": _compare_layout,
}


def write_section(topic: str, audience: str, style: str, rng: random.Random) -> str:
    """A Markdown textbook section on `topic` for `audience`, laid out as `style` asks (see STYLE_CLASSES)."""
    writer = SectionWriter(plan_section(topic, audience, rng), rng)
    LAYOUTS[classify(style, STYLE_CLASSES, "explanation")](writer)
    return writer.text()


class TextbookGenerator:
    """Answers textbook prompts (TEXTBOOK_MARKER, with Topic/Audience/Style lines) with write_section."""

    def matches(self, messages: Messages) -> bool:
        return TEXTBOOK_MARKER in last_user_text(messages)

    def respond(self, messages: Messages, rng: random.Random) -> str:
        fields = prompt_fields(last_user_text(messages))
        return write_section(fields.get("Topic", "Python programming"), fields.get("Audience", "a beginner"),
                             fields.get("Style", ""), rng)


# --- code exercises --------------------------------------------------------------------------------------------------

FLAW_RATE = 0.06
"""The share of exercise answers with one deliberate flaw, as a real teacher sometimes produces broken exercises."""
FLAW_KINDS = ("wrong_output", "syntax_error", "wrong_name", "no_examples", "infinite_loop")
"""wrong_output: one doctest example expects a wrong value; syntax_error: the code does not parse; wrong_name: the
function has another name than asked; no_examples: the docstring has no doctest examples; infinite_loop: the body
starts with `while True: pass`, so running an example never ends."""
FLAW_WEIGHTS = (0.225, 0.225, 0.225, 0.225, 0.1)  # infinite loops are rare: each costs the validator a timeout

WORDS = (
    "anchor", "apple", "banana", "bridge", "candle", "cherry", "delta", "dragon", "echo", "ember", "falcon", "garden",
    "harbor", "island", "jungle", "kettle", "lemon", "meadow", "nectar", "orbit", "pepper", "quartz", "river",
    "sunset", "tiger", "umbrella", "violet", "willow", "yellow", "zebra",
)
NOUN_KINDS = {  # the kind of data a noun suggests; any other noun holds "numbers"
    "words": "names words strings emails tags labels cities colors books files paths keys answers tokens lines "
             "entries votes",
    "text": "sentences messages brackets characters letters",
    "matrix": "grid matrix cells rows columns blocks",
    "intervals": "intervals segments events flights",
    "records": "records orders students accounts items tickets tasks pairs",
    "points": "coordinates points vectors edges",
}
KIND_OF_NOUN = {noun: kind for kind, nouns in NOUN_KINDS.items() for noun in nouns.split()}
GENERIC_PARAMETER = {"numbers": "values", "words": "words", "text": "text", "matrix": "grid",
                     "intervals": "intervals", "records": "records", "points": "points", "nested": "groups"}
GENERIC_LABEL = {"numbers": "values", "words": "words", "text": "text", "matrix": "grid", "intervals": "intervals",
                 "records": "(name, value) records", "points": "(x, y) points", "nested": "groups of values"}
PREDICATES = {  # modifier -> (condition on `value`, words for the docstring)
    "even": ("value % 2 == 0", "even"), "odd": ("value % 2 == 1", "odd"),
    "positive": ("value > 0", "positive"), "negative": ("value < 0", "negative"),
}


@dataclass(frozen=True)
class Request:
    """A requested function: its name, split into verb, modifier and noun, and its domain."""

    name: str
    verb: str
    modifier: str
    noun: str
    kind: str  # the data the noun suggests (NOUN_KINDS)
    domain: str

    @property
    def subject(self) -> str:
        """The noun as the thing one argument holds: a text noun in the singular ("sentences" -> "sentence")."""
        if self.kind == "text" and self.noun.endswith("s") and self.noun not in ("brackets", "characters", "letters"):
            return self.noun[:-1]
        return self.noun

    def parameter(self, kind: str) -> str:
        """The main parameter's name: the noun when it fits `kind` and is a plain identifier, else a generic name."""
        fits = self.kind == kind or (kind == "nested" and self.kind == "numbers")
        subject = self.subject
        usable = subject.isidentifier() and not keyword.iskeyword(subject) and not hasattr(builtins, subject)
        return subject if fits and usable else GENERIC_PARAMETER[kind]

    def label(self, kind: str) -> str:
        """What the docstring calls the main argument."""
        return self.subject.replace("_", " ") if self.kind == kind else GENERIC_LABEL[kind]


@dataclass(frozen=True)
class Problem:
    """An exercise before it is written out. `task` follows "In a <domain> app, "; `body` is the solution's
    statements (unindented); `calls` are the arguments of the doctest examples."""

    params: str
    returns: str
    task: str
    body: str
    calls: tuple[tuple[Any, ...], ...]
    imports: tuple[str, ...] = ()


@dataclass(frozen=True)
class Family:
    """A parameterised problem family and the name parts it suits."""

    name: str
    build: Callable[[Request, random.Random], Problem]
    verbs: frozenset[str]
    modifiers: frozenset[str]
    kinds: frozenset[str]


FAMILIES: dict[str, Family] = {}


def family(verbs: str, kinds: str, modifiers: str = "") -> Callable:
    """Register a problem family for the verbs, data kinds and modifiers given as space-separated words."""

    def register(build: Callable[[Request, random.Random], Problem]) -> Callable[[Request, random.Random], Problem]:
        FAMILIES[build.__name__] = Family(build.__name__, build, frozenset(verbs.split()),
                                          frozenset(modifiers.split()), frozenset(kinds.split()))
        return build

    return register


def _numbers(rng: random.Random, low: int = 0, high: int = 50, size: int | None = None) -> list[int]:
    return [rng.randint(low, high) for _ in range(size if size is not None else rng.randint(4, 7))]


def _words(rng: random.Random, size: int | None = None) -> list[str]:
    return rng.sample(WORDS, size if size is not None else rng.randint(3, 5))


def _twice(make: Callable[[], Any], *extra: Any) -> tuple[tuple[Any, ...], ...]:
    """Arguments for two examples: each a fresh `make()`, then the `extra` arguments."""
    return (make(), *extra), (make(), *extra)


def _list_kind(r: Request) -> tuple[str, str]:
    """(kind, element type) for a family that works on words and numbers alike: words if the noun names words."""
    return ("words", "str") if r.kind == "words" else ("numbers", "int")


def _items(rng: random.Random, kind: str, size: int) -> list[Any]:
    return _words(rng, size) if kind == "words" else _numbers(rng, size=size)


def _repeating(rng: random.Random, kind: str) -> list[Any]:
    """Words or small numbers, drawn with repeats."""
    return rng.choices(_words(rng, 4), k=6) if kind == "words" else _numbers(rng, 0, 6, 7)


def _predicate(r: Request, rng: random.Random) -> tuple[str, str]:
    return PREDICATES.get(r.modifier) or PREDICATES[rng.choice(sorted(PREDICATES))]


# Numbers.


@family("count tally measure score", "numbers")
def count_above(r: Request, rng: random.Random) -> Problem:
    xs, limit = r.parameter("numbers"), rng.randint(10, 40)
    return Problem(f"{xs}: list[int], limit: int", "int",
                   f"count how many of the {r.label('numbers')} are greater than `limit`",
                   f"return sum(1 for value in {xs} if value > limit)",
                   _twice(lambda: _numbers(rng), limit) + (([], limit),))


@family("count tally check", "numbers", "even odd positive negative")
def count_matching(r: Request, rng: random.Random) -> Problem:
    xs, (condition, words) = r.parameter("numbers"), _predicate(r, rng)
    return Problem(f"{xs}: list[int]", "int", f"count the {words} numbers among the {r.label('numbers')}",
                   f"return sum(1 for value in {xs} if {condition})", _twice(lambda: _numbers(rng, -20, 40)))


@family("filter select limit extract trim", "numbers")
def filter_between(r: Request, rng: random.Random) -> Problem:
    xs, low = r.parameter("numbers"), rng.randint(5, 20)
    high = low + rng.randint(10, 25)
    return Problem(f"{xs}: list[int], low: int, high: int", "list[int]",
                   f"keep the {r.label('numbers')} between `low` and `high` (inclusive), in their original order",
                   f"return [value for value in {xs} if low <= value <= high]",
                   _twice(lambda: _numbers(rng), low, high))


@family("filter select extract collect", "numbers", "even odd positive negative")
def filter_matching(r: Request, rng: random.Random) -> Problem:
    xs, (condition, words) = r.parameter("numbers"), _predicate(r, rng)
    return Problem(f"{xs}: list[int]", "list[int]",
                   f"return the {words} values among the {r.label('numbers')}, in their original order",
                   f"return [value for value in {xs} if {condition}]",
                   _twice(lambda: _numbers(rng, -20, 40)) + (([],),))


@family("partition split classify", "numbers", "even odd positive negative")
def partition_values(r: Request, rng: random.Random) -> Problem:
    xs, (condition, words) = r.parameter("numbers"), _predicate(r, rng)
    body = f"""matching, rest = [], []
for value in {xs}:
    (matching if {condition} else rest).append(value)
return matching, rest"""
    return Problem(f"{xs}: list[int]", "tuple[list[int], list[int]]",
                   f"split the {r.label('numbers')} into the {words} ones and the rest, keeping their order",
                   body, _twice(lambda: _numbers(rng, -20, 40)))


@family("add compute summarize accumulate", "numbers", "total")
def running_totals(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    return Problem(f"{xs}: list[int]", "list[int]", f"return the running totals of the {r.label('numbers')}: "
                   "element i is the sum of the first i + 1 values", f"return list(accumulate({xs}))",
                   _twice(lambda: _numbers(rng, 0, 20)) + (([],),), ("from itertools import accumulate",))


@family("split group partition", "numbers words")
def chunk(r: Request, rng: random.Random) -> Problem:
    (kind, item), size = _list_kind(r), rng.randint(2, 3)
    xs = r.parameter(kind)
    return Problem(f"{xs}: list[{item}], size: int", f"list[list[{item}]]",
                   f"split the {r.label(kind)} into consecutive groups of `size`; the last group may be shorter",
                   f"return [{xs}[start:start + size] for start in range(0, len({xs}), size)]",
                   ((_items(rng, kind, rng.randint(4, 7)), size), (_items(rng, kind, rng.randint(5, 8)), size + 1)))


@family("deduplicate trim collect list", "numbers words", "unique distinct")
def deduplicate(r: Request, rng: random.Random) -> Problem:
    kind, item = _list_kind(r)
    xs = r.parameter(kind)
    return Problem(f"{xs}: list[{item}]", f"list[{item}]",
                   f"remove repeated {r.label(kind)}, keeping the first occurrence of each in its original place",
                   f"return list(dict.fromkeys({xs}))", _twice(lambda: _repeating(rng, kind)))


@family("detect find check list", "numbers words", "duplicate repeated common")
def find_repeated(r: Request, rng: random.Random) -> Problem:
    kind, item = _list_kind(r)
    xs = r.parameter(kind)
    return Problem(f"{xs}: list[{item}]", f"list[{item}]",
                   f"return the {r.label(kind)} that occur more than once, sorted",
                   f"counts = Counter({xs})\nreturn sorted(item for item, count in counts.items() if count > 1)",
                   _twice(lambda: _repeating(rng, kind)), ("from collections import Counter",))


@family("merge combine join", "numbers", "sorted ascending")
def merge_sorted(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    return Problem(f"{xs}: list[int], others: list[int]", "list[int]",
                   f"merge two ascending lists of {r.label('numbers')} into one ascending list",
                   f"return list(merge({xs}, others))",
                   ((sorted(_numbers(rng)), sorted(_numbers(rng))), (sorted(_numbers(rng)), [])),
                   ("from heapq import merge",))


@family("filter select detect find check", "numbers", "prime")
def primes_among(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    return Problem(f"{xs}: list[int]", "list[int]", f"return the prime numbers among the {r.label('numbers')}",
                   f"return [n for n in {xs} if n > 1 and all(n % d for d in range(2, isqrt(n) + 1))]",
                   _twice(lambda: _numbers(rng, 0, 40)), ("from math import isqrt",))


@family("generate list build compute", "numbers", "prime")
def primes_up_to(r: Request, rng: random.Random) -> Problem:
    body = """is_prime = [True] * (limit + 1)
for n in range(2, int(limit ** 0.5) + 1):
    if is_prime[n]:
        for multiple in range(n * n, limit + 1, n):
            is_prime[multiple] = False
return [n for n in range(2, limit + 1) if is_prime[n]]"""
    return Problem("limit: int", "list[int]", f"list the prime {r.label('numbers')} up to `limit` (inclusive), "
                   "with the sieve of Eratosthenes", body, ((rng.randint(10, 30),), (rng.randint(31, 50),), (1,)))


@family("compute find reduce", "numbers", "common")
def greatest_common_divisor(r: Request, rng: random.Random) -> Problem:
    xs, factor = r.parameter("numbers"), rng.choice((2, 3, 4, 5, 6))
    return Problem(f"{xs}: list[int]", "int",
                   f"return the greatest common divisor of the {r.label('numbers')} (0 for an empty list)",
                   f"return reduce(gcd, {xs}, 0)",
                   _twice(lambda: [factor * rng.randint(1, 12) for _ in range(rng.randint(2, 4))]) + (([],),),
                   ("from functools import reduce", "from math import gcd"))


@family("find locate index search", "numbers", "sorted first")
def binary_search(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    data = sorted(set(_numbers(rng, 0, 60, 8)))
    body = f"""position = bisect_left({xs}, target)
if position < len({xs}) and {xs}[position] == target:
    return position
return -1"""
    return Problem(f"{xs}: list[int], target: int", "int",
                   f"find the index of `target` in the ascending list of {r.label('numbers')} with binary search, "
                   "or return -1 if it is missing", body,
                   ((data, rng.choice(data)), (data, 61)), ("from bisect import bisect_left",))


@family("average estimate summarize smooth", "numbers", "average")
def moving_average(r: Request, rng: random.Random) -> Problem:
    xs, window = r.parameter("numbers"), rng.randint(2, 3)
    body = f"""return [
    round(sum({xs}[start:start + window]) / window, 2)
    for start in range(len({xs}) - window + 1)
]"""
    return Problem(f"{xs}: list[int], window: int", "list[float]",
                   f"return the averages of every `window` consecutive {r.label('numbers')}, rounded to 2 decimals",
                   body, _twice(lambda: _numbers(rng, 0, 30), window))


@family("rank select find limit", "numbers", "largest smallest top")
def top_k(r: Request, rng: random.Random) -> Problem:
    xs, k = r.parameter("numbers"), rng.randint(2, 3)
    picker, order = ("nsmallest", "smallest") if r.modifier == "smallest" else ("nlargest", "largest")
    return Problem(f"{xs}: list[int], k: int", "list[int]",
                   f"return the `k` {order} {r.label('numbers')}, {order} first", f"return {picker}(k, {xs})",
                   _twice(lambda: _numbers(rng), k), (f"from heapq import {picker}",))


@family("rotate shift", "numbers words")
def rotate(r: Request, rng: random.Random) -> Problem:
    kind, item = _list_kind(r)
    xs = r.parameter(kind)
    body = f"""if not {xs}:
    return []
steps %= len({xs})
return {xs}[-steps:] + {xs}[:-steps]"""
    return Problem(f"{xs}: list[{item}], steps: int", f"list[{item}]",
                   f"rotate the {r.label(kind)} to the right by `steps` positions", body,
                   ((_items(rng, kind, 4), rng.randint(1, 3)), (_items(rng, kind, 5), rng.randint(4, 7)), ([], 2)))


@family("clamp limit trim bound", "numbers")
def clamp(r: Request, rng: random.Random) -> Problem:
    xs, low = r.parameter("numbers"), rng.randint(5, 15)
    high = low + rng.randint(10, 20)
    return Problem(f"{xs}: list[int], low: int, high: int", "list[int]",
                   f"clamp each of the {r.label('numbers')} into the range from `low` to `high`",
                   f"return [min(max(value, low), high) for value in {xs}]", _twice(lambda: _numbers(rng), low, high))


@family("normalize scale", "numbers")
def normalize(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    body = f"""low, high = min({xs}), max({xs})
if low == high:
    return [0.0 for _ in {xs}]
return [round((value - low) / (high - low), 2) for value in {xs}]"""
    return Problem(f"{xs}: list[int]", "list[float]", f"scale the non-empty list of {r.label('numbers')} to the "
                   "range 0 to 1 (smallest to 0.0, largest to 1.0), rounding to 2 decimals", body,
                   ((_numbers(rng, size=4),), (_numbers(rng, size=5),), ([7, 7],)))


@family("summarize average measure estimate compute", "numbers", "average")
def mean_and_median(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    return Problem(f"{xs}: list[int]", "tuple[float, float]",
                   f"return the mean and the median of the non-empty list of {r.label('numbers')}, "
                   "both rounded to 2 decimals", f"return round(float(mean({xs})), 2), round(float(median({xs})), 2)",
                   _twice(lambda: _numbers(rng)), ("from statistics import mean, median",))


@family("compare shift measure", "numbers", "consecutive adjacent")
def differences(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    return Problem(f"{xs}: list[int]", "list[int]",
                   f"return the differences between consecutive {r.label('numbers')} (each value minus the one "
                   "before it)", f"return [b - a for a, b in pairwise({xs})]",
                   _twice(lambda: _numbers(rng)) + (([5],),), ("from itertools import pairwise",))


@family("measure find count", "numbers", "consecutive longest ascending")
def longest_increasing_run(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    body = f"""best = current = 0
previous = None
for value in {xs}:
    current = current + 1 if previous is not None and value > previous else 1
    best = max(best, current)
    previous = value
return best"""
    return Problem(f"{xs}: list[int]", "int",
                   f"return the length of the longest run of strictly increasing consecutive {r.label('numbers')}",
                   body, ((_numbers(rng, size=7),), (_numbers(rng, size=8),), ([],)))


@family("pair find match combine", "numbers", "matching")
def pairs_with_sum(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    data = _numbers(rng, 0, 12, 6)
    body = f"""return [
    ({xs}[i], {xs}[j])
    for i in range(len({xs}))
    for j in range(i + 1, len({xs}))
    if {xs}[i] + {xs}[j] == target
]"""
    return Problem(f"{xs}: list[int], target: int", "list[tuple[int, int]]",
                   f"list the pairs of {r.label('numbers')} (by position, earlier first) that add up to `target`",
                   body, ((data, data[0] + data[-1]), (_numbers(rng, 0, 12, 5), rng.randint(8, 14))))


@family("convert encode format", "numbers")
def to_binary(r: Request, rng: random.Random) -> Problem:
    xs, width = r.parameter("numbers"), rng.choice((4, 6, 8))
    return Problem(f"{xs}: list[int], width: int", "list[str]",
                   f"convert each of the non-negative {r.label('numbers')} to binary, padded with zeros to `width` "
                   "digits", f"return [format(value, 'b').zfill(width) for value in {xs}]",
                   ((_numbers(rng, 0, 15, 3), width), (_numbers(rng, 0, 63, 3), width)))


@family("compute summarize add", "numbers", "total")
def digit_sums(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    return Problem(f"{xs}: list[int]", "list[int]",
                   f"return the sum of the decimal digits of each of the {r.label('numbers')} (sign ignored)",
                   f"return [sum(int(digit) for digit in str(abs(value))) for value in {xs}]",
                   ((_numbers(rng, 0, 999, 4),), (_numbers(rng, -99, 99, 4),)))


@family("rank score label", "numbers")
def dense_rank(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    body = f"""order = sorted(set({xs}), reverse=True)
return [order.index(value) + 1 for value in {xs}]"""
    return Problem(f"{xs}: list[int]", "list[int]",
                   f"rank the {r.label('numbers')}: the largest gets rank 1, equal values share a rank, and ranks "
                   "have no gaps", body, ((_numbers(rng, 0, 10, 5),), (_numbers(rng, 0, 10, 6),)))


@family("label classify score", "numbers")
def label_by_threshold(r: Request, rng: random.Random) -> Problem:
    xs, low = r.parameter("numbers"), rng.randint(20, 40)
    high = low + rng.randint(20, 40)
    labels = rng.choice((("low", "medium", "high"), ("poor", "fair", "good"), ("cold", "mild", "hot")))
    return Problem(f"{xs}: list[int]", "list[str]",
                   f"label each of the {r.label('numbers')} {labels[0]!r} below {low}, {labels[2]!r} from {high} "
                   f"on, and {labels[1]!r} in between",
                   f"return [{labels!r}[bisect_right([{low}, {high}], value)] for value in {xs}]",
                   _twice(lambda: _numbers(rng, 0, 100, 4)), ("from bisect import bisect_right",))


@family("sample select", "numbers words")
def every_kth(r: Request, rng: random.Random) -> Problem:
    (kind, item), k = _list_kind(r), rng.randint(2, 3)
    xs = r.parameter(kind)
    return Problem(f"{xs}: list[{item}], k: int", f"list[{item}]",
                   f"take every `k`-th of the {r.label(kind)}, starting with the first", f"return {xs}[::k]",
                   ((_items(rng, kind, 6), k), (_items(rng, kind, 7), k + 1)))


@family("scale convert transform", "numbers")
def scale(r: Request, rng: random.Random) -> Problem:
    xs, factor = r.parameter("numbers"), rng.choice((0.5, 1.5, 2.5, 0.25))
    return Problem(f"{xs}: list[int], factor: float", "list[float]",
                   f"multiply each of the {r.label('numbers')} by `factor`, rounding to 2 decimals",
                   f"return [round(value * factor, 2) for value in {xs}]",
                   ((_numbers(rng, size=4), factor), (_numbers(rng, size=3), factor)))


@family("round estimate", "numbers")
def round_to_step(r: Request, rng: random.Random) -> Problem:
    xs, step = r.parameter("numbers"), rng.choice((5, 10, 25))
    return Problem(f"{xs}: list[int], step: int", "list[int]",
                   f"round each of the {r.label('numbers')} down to a multiple of `step`",
                   f"return [value - value % step for value in {xs}]", _twice(lambda: _numbers(rng, 0, 120, 4), step))


@family("find select rank", "numbers", "largest")
def second_largest(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    body = f"""distinct = sorted(set({xs}), reverse=True)
return distinct[1] if len(distinct) > 1 else None"""
    return Problem(f"{xs}: list[int]", "int | None",
                   f"return the second largest distinct value among the {r.label('numbers')}, or None if there is "
                   "none", body, _twice(lambda: _numbers(rng)) + (([4, 4],),))


@family("swap pair shift", "numbers words")
def swap_adjacent(r: Request, rng: random.Random) -> Problem:
    kind, item = _list_kind(r)
    xs = r.parameter(kind)
    body = f"""result = list({xs})
for i in range(0, len(result) - 1, 2):
    result[i], result[i + 1] = result[i + 1], result[i]
return result"""
    return Problem(f"{xs}: list[{item}]", f"list[{item}]",
                   f"swap each pair of neighbouring {r.label(kind)} (first with second, third with fourth, ...); "
                   "an odd last element stays in place", body, ((_items(rng, kind, 4),), (_items(rng, kind, 5),)))


@family("interleave combine merge join", "numbers words", "alternating")
def interleave(r: Request, rng: random.Random) -> Problem:
    kind, item = _list_kind(r)
    xs = r.parameter(kind)
    body = f"""result = []
for pair in zip_longest({xs}, others):
    result.extend(value for value in pair if value is not None)
return result"""
    return Problem(f"{xs}: list[{item}], others: list[{item}]", f"list[{item}]",
                   f"interleave the {r.label(kind)} with `others`, taking one from each in turn; what is left of the "
                   "longer list comes at the end", body,
                   ((_items(rng, kind, 3), _items(rng, kind, 3)), (_items(rng, kind, 4), _items(rng, kind, 2))),
                   ("from itertools import zip_longest",))


@family("flatten combine expand collect join", "nested", "nested")
def flatten(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("nested")
    return Problem(f"{xs}: list[list[int]]", "list[int]",
                   f"flatten the {r.label('nested')} (a list of lists) into one list, keeping the order",
                   f"return list(chain.from_iterable({xs}))",
                   _twice(lambda: [_numbers(rng, size=rng.randint(0, 3)) for _ in range(rng.randint(2, 4))]),
                   ("from itertools import chain",))


# Words.


@family("count tally summarize collect map index", "words", "frequent common")
def count_each(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("words")
    return Problem(f"{xs}: list[str]", "dict[str, int]",
                   f"count how often each of the {r.label('words')} occurs, in order of first appearance",
                   f"return dict(Counter({xs}))", _twice(lambda: _repeating(rng, "words")),
                   ("from collections import Counter",))


@family("find select detect", "words numbers", "frequent common")
def most_frequent(r: Request, rng: random.Random) -> Problem:
    kind, item = _list_kind(r)
    xs = r.parameter(kind)
    return Problem(f"{xs}: list[{item}]", item,
                   f"return the most frequent of the non-empty list of {r.label(kind)}; on a tie, the one that "
                   "appears first", f"return Counter({xs}).most_common(1)[0][0]",
                   _twice(lambda: _repeating(rng, kind)), ("from collections import Counter",))


@family("group collect classify index map partition", "words")
def group_by_initial(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("words")
    body = f"""groups = defaultdict(list)
for word in {xs}:
    groups[word[0]].append(word)
return dict(groups)"""
    return Problem(f"{xs}: list[str]", "dict[str, list[str]]",
                   f"group the non-empty {r.label('words')} by their first letter, in order of first appearance",
                   body, _twice(lambda: _words(rng, 5)), ("from collections import defaultdict",))


@family("filter select match extract", "words", "matching")
def filter_prefix(r: Request, rng: random.Random) -> Problem:
    xs, data = r.parameter("words"), _words(rng, 5)
    prefix = rng.choice(data)[: rng.randint(1, 2)]
    return Problem(f"{xs}: list[str], prefix: str", "list[str]",
                   f"keep the {r.label('words')} that start with `prefix`, ignoring case",
                   f"return [word for word in {xs} if word.lower().startswith(prefix.lower())]",
                   ((data, prefix.upper()), (_words(rng, 5), prefix)))


@family("sort rank order", "words", "longest shortest")
def sort_by_length(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("words")
    key, order = ("(-len(word), word)", "longest") if r.modifier == "longest" else ("(len(word), word)", "shortest")
    return Problem(f"{xs}: list[str]", "list[str]",
                   f"sort the {r.label('words')} {order} first, and alphabetically when lengths are equal",
                   f"return sorted({xs}, key=lambda word: {key})", _twice(lambda: _words(rng)))


@family("convert transform format", "words")
def snake_to_title(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("words")
    return Problem(f"{xs}: list[str]", "list[str]",
                   f"turn each of the {r.label('words')}, written in snake_case, into Title Case words separated "
                   "by spaces", f"return [' '.join(part.capitalize() for part in word.split('_')) for word in {xs}]",
                   _twice(lambda: ["_".join(rng.sample(WORDS, rng.randint(1, 3))) for _ in range(2)]))


@family("detect find filter check match", "words")
def palindromes(r: Request, rng: random.Random) -> Problem:
    xs, pool = r.parameter("words"), ("level", "Anna", "rotor", "stats", "radar", *WORDS[:8])
    return Problem(f"{xs}: list[str]", "list[str]",
                   f"return the {r.label('words')} that read the same backwards, ignoring case",
                   f"return [word for word in {xs} if word.lower() == word.lower()[::-1]]",
                   _twice(lambda: rng.sample(pool, 5)))


@family("group match classify pair", "words", "matching")
def anagram_groups(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("words")
    pool = ("listen", "silent", "enlist", "stone", "notes", "onset", "apple", "google", "below", "elbow")
    body = f"""groups = defaultdict(list)
for word in {xs}:
    groups["".join(sorted(word))].append(word)
return [group for group in groups.values() if len(group) > 1]"""
    return Problem(f"{xs}: list[str]", "list[list[str]]",
                   f"group the {r.label('words')} that are anagrams of each other; return the groups with more "
                   "than one word, in order of first appearance", body,
                   ((rng.sample(pool, 5),), (rng.sample(pool, 6),)), ("from collections import defaultdict",))


@family("map measure compute index", "words")
def word_lengths(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("words")
    return Problem(f"{xs}: list[str]", "dict[str, int]", f"map each of the {r.label('words')} to its length",
                   f"return {{word: len(word) for word in {xs}}}", ((_words(rng),), (_words(rng, 2),)))


@family("validate check match", "words", "valid")
def valid_emails(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("words")
    good = [f"{rng.choice(WORDS)}@{rng.choice(WORDS)}.com" for _ in range(2)]
    bad = [f"{rng.choice(WORDS)}.{rng.choice(WORDS)}", f"@{rng.choice(WORDS)}.org", f"{rng.choice(WORDS)}@"]
    return Problem(f"{xs}: list[str]", "list[bool]",
                   f"check which of the {r.label('words')} look like e-mail addresses: a name, '@', and a domain "
                   "with a dot", rf"return [bool(re.fullmatch(r'[\w.]+@\w+(\.\w+)+', text)) for text in {xs}]",
                   _twice(lambda: rng.sample(good + bad, 3)), ("import re",))


# Text.


@family("reverse transform invert", "text")
def reverse_words(r: Request, rng: random.Random) -> Problem:
    text = r.parameter("text")
    return Problem(f"{text}: str", "str", f"reverse the order of the words in the {r.label('text')}, separating "
                   "them by single spaces", f"return ' '.join(reversed({text}.split()))",
                   ((" ".join(_words(rng)),), (" ".join(_words(rng, 2)),), ("",)))


@family("parse decode extract split", "text")
def parse_pairs(r: Request, rng: random.Random) -> Problem:
    text = r.parameter("text")
    separator, assign = rng.choice(((";", "="), (",", ":"), ("&", "=")))
    body = f"""result = {{}}
for part in {text}.split({separator!r}):
    if part.strip():
        key, _, value = part.partition({assign!r})
        result[key.strip()] = int(value)
return result"""
    return Problem(f"{text}: str", "dict[str, int]",
                   f"parse the {r.label('text')}, made of `key{assign}number` parts separated by {separator!r}, into "
                   "a dictionary of integers", body,
                   _twice(lambda: separator.join(f"{w}{assign}{rng.randint(0, 99)}" for w in _words(rng, 3)))
                   + (("",),))


@family("extract parse collect", "text")
def extract_numbers(r: Request, rng: random.Random) -> Problem:
    text = r.parameter("text")
    return Problem(f"{text}: str", "list[int]",
                   f"extract all the integers (possibly negative) from the {r.label('text')}",
                   f"return [int(number) for number in re.findall(r'-?\\d+', {text})]",
                   _twice(lambda: " ".join(f"{w} {rng.randint(-20, 99)}" for w in _words(rng, 3)))
                   + (("no digits here",),), ("import re",))


@family("split extract parse normalize", "text")
def split_words(r: Request, rng: random.Random) -> Problem:
    text = r.parameter("text")
    return Problem(f"{text}: str", "list[str]",
                   f"split the {r.label('text')} into lowercase words, dropping punctuation",
                   f"return re.findall(r'[a-z]+', {text}.lower())",
                   _twice(lambda: ", ".join(w.capitalize() if i % 2 else w for i, w in enumerate(_words(rng))) + "!"),
                   ("import re",))


@family("compress encode summarize", "text")
def run_length_encode(r: Request, rng: random.Random) -> Problem:
    text = r.parameter("text")
    return Problem(f"{text}: str", "str", f"compress the {r.label('text')} with run-length encoding: each run of "
                   "a repeated character becomes the character followed by the run's length",
                   f"return ''.join(f'{{char}}{{len(list(run))}}' for char, run in groupby({text}))",
                   _twice(lambda: "".join(rng.choice("abc") * rng.randint(1, 4) for _ in range(4))) + (("",),),
                   ("from itertools import groupby",))


@family("decode expand", "text")
def run_length_decode(r: Request, rng: random.Random) -> Problem:
    text = r.parameter("text")
    return Problem(f"{text}: str", "str", f"decode the run-length encoded {r.label('text')}, where each character "
                   "is followed by how many times it repeats",
                   f"return ''.join(char * int(count) for char, count in re.findall(r'(\\D)(\\d+)', {text}))",
                   _twice(lambda: "".join(f"{rng.choice('xyz')}{rng.randint(1, 4)}" for _ in range(3))),
                   ("import re",))


@family("encode decode shift transform", "text")
def caesar_shift(r: Request, rng: random.Random) -> Problem:
    text = r.parameter("text")
    body = f"""result = []
for char in {text}:
    if char.islower():
        result.append(chr((ord(char) - ord('a') + shift) % 26 + ord('a')))
    else:
        result.append(char)
return ''.join(result)"""
    return Problem(f"{text}: str, shift: int", "str", f"shift every lowercase letter of the {r.label('text')} "
                   "`shift` places along the alphabet, wrapping from z to a; other characters stay", body,
                   ((" ".join(_words(rng, 2)), rng.randint(1, 5)), ("xyz!", rng.randint(1, 5))))


@family("validate check balance match", "text", "balanced valid")
def balanced_brackets(r: Request, rng: random.Random) -> Problem:
    text = r.parameter("text")
    body = f"""pairs = {{')': '(', ']': '[', '}}': '{{'}}
stack = []
for char in {text}:
    if char in '([{{':
        stack.append(char)
    elif char in pairs:
        if not stack or stack.pop() != pairs[char]:
            return False
return not stack"""
    samples = ("(a[b]{c})", "([)]", "{[()()]}", "((x)", "[]{}()", "(]", "x(y)z]")
    return Problem(f"{text}: str", "bool", f"check that the brackets (), [] and {{}} in the {r.label('text')} are "
                   "balanced and properly nested", body, tuple((sample,) for sample in rng.sample(samples, 3)))


@family("count tally measure", "text")
def count_vowels(r: Request, rng: random.Random) -> Problem:
    text = r.parameter("text")
    return Problem(f"{text}: str", "int",
                   f"count the vowels (a, e, i, o, u, in either case) in the {r.label('text')}",
                   f"return sum(1 for char in {text}.lower() if char in 'aeiou')",
                   ((" ".join(_words(rng, 2)).title(),), (" ".join(_words(rng, 3)),), ("",)))


# Intervals, matrices, records and points.


def _intervals(rng: random.Random) -> list[tuple[int, int]]:
    return [(start, start + rng.randint(1, 6)) for start in _numbers(rng, 0, 20, rng.randint(3, 4))]


@family("merge combine join compress", "intervals", "overlapping")
def merge_intervals(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("intervals")
    body = f"""merged: list[tuple[int, int]] = []
for start, end in sorted({xs}):
    if merged and start <= merged[-1][1]:
        merged[-1] = (merged[-1][0], max(merged[-1][1], end))
    else:
        merged.append((start, end))
return merged"""
    return Problem(f"{xs}: list[tuple[int, int]]", "list[tuple[int, int]]",
                   f"merge the overlapping {r.label('intervals')}, given as (start, end) pairs, and return them "
                   "sorted by start", body, _twice(lambda: _intervals(rng)) + (([],),))


@family("measure compute summarize", "intervals", "total")
def covered_length(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("intervals")
    body = f"""total, reach = 0, None
for start, end in sorted({xs}):
    if reach is None or start > reach:
        total += end - start
        reach = end
    elif end > reach:
        total += end - reach
        reach = end
return total"""
    return Problem(f"{xs}: list[tuple[int, int]]", "int",
                   f"return the total length covered by the {r.label('intervals')} ((start, end) pairs), counting "
                   "overlaps once", body, _twice(lambda: _intervals(rng)) + (([],),))


def _matrix(rng: random.Random) -> list[list[int]]:
    columns = rng.randint(2, 3)
    return [_numbers(rng, 0, 9, columns) for _ in range(rng.randint(2, 3))]


@family("invert swap transform flip", "matrix")
def transpose(r: Request, rng: random.Random) -> Problem:
    grid = r.parameter("matrix")
    return Problem(f"{grid}: list[list[int]]", "list[list[int]]",
                   f"transpose the {r.label('matrix')}, a list of rows: rows become columns",
                   f"return [list(column) for column in zip(*{grid})]", _twice(lambda: _matrix(rng)))


@family("summarize add compute measure", "matrix", "total")
def row_sums(r: Request, rng: random.Random) -> Problem:
    grid = r.parameter("matrix")
    return Problem(f"{grid}: list[list[int]]", "list[int]", f"return the sum of each row of the {r.label('matrix')}",
                   f"return [sum(row) for row in {grid}]", _twice(lambda: _matrix(rng)))


@family("rotate shift", "matrix")
def rotate_grid(r: Request, rng: random.Random) -> Problem:
    grid = r.parameter("matrix")
    return Problem(f"{grid}: list[list[int]]", "list[list[int]]",
                   f"rotate the {r.label('matrix')}, a list of rows, 90 degrees clockwise",
                   f"return [list(row) for row in zip(*{grid}[::-1])]", _twice(lambda: _matrix(rng)))


def _records(rng: random.Random, size: int | None = None) -> list[tuple[str, int]]:
    return [(word, rng.randint(1, 60)) for word in _words(rng, size)]


@family("sort rank order", "records", "descending ascending")
def sort_records(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("records")
    key, order = (("(record[1], record[0])", "lowest") if r.modifier == "ascending"
                  else ("(-record[1], record[0])", "highest"))
    return Problem(f"{xs}: list[tuple[str, int]]", "list[str]",
                   f"return the names of the {r.label('records')}, {order} value first, ties broken alphabetically",
                   f"return [name for name, _ in sorted({xs}, key=lambda record: {key})]",
                   _twice(lambda: _records(rng)))


@family("summarize group add tally collect", "records", "total")
def totals_by_name(r: Request, rng: random.Random) -> Problem:
    xs, names = r.parameter("records"), _words(rng, 3)
    body = f"""totals: dict[str, int] = {{}}
for name, amount in {xs}:
    totals[name] = totals.get(name, 0) + amount
return totals"""
    return Problem(f"{xs}: list[tuple[str, int]]", "dict[str, int]",
                   f"add up the values of the {r.label('records')} per name, in order of first appearance", body,
                   _twice(lambda: [(rng.choice(names), rng.randint(1, 20)) for _ in range(5)]))


@family("find select locate", "records", "largest smallest top")
def best_record(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("records")
    picker, order = ("min", "smallest") if r.modifier == "smallest" else ("max", "largest")
    return Problem(f"{xs}: list[tuple[str, int]]", "str",
                   f"return the name of the record with the {order} value among the non-empty {r.label('records')}; "
                   "on a tie, the first one", f"return {picker}({xs}, key=lambda record: record[1])[0]",
                   _twice(lambda: _records(rng)))


@family("format build join list", "records")
def format_rows(r: Request, rng: random.Random) -> Problem:
    xs, width = r.parameter("records"), rng.randint(8, 10)
    return Problem(f"{xs}: list[tuple[str, int]], width: int", "list[str]",
                   f"format the {r.label('records')} as table rows: the name left-aligned in `width` characters, "
                   "then the value right-aligned in 4",
                   f"return [f'{{name:<{{width}}}}{{value:>4}}' for name, value in {xs}]",
                   ((_records(rng, 2), width), (_records(rng, 3), width)))


@family("invert map swap", "records")
def names_by_value(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("records")
    body = f"""result: dict[int, list[str]] = {{}}
for name, value in {xs}:
    result.setdefault(value, []).append(name)
return result"""
    return Problem(f"{xs}: list[tuple[str, int]]", "dict[int, list[str]]",
                   f"invert the {r.label('records')}: map each value to the names that have it, in order", body,
                   _twice(lambda: [(w, rng.randint(1, 3)) for w in _words(rng, 4)]))


def _points(rng: random.Random) -> list[tuple[int, int]]:
    return [(rng.randint(-9, 9), rng.randint(-9, 9)) for _ in range(rng.randint(3, 4))]


@family("find locate select sort", "points")
def closest_to_origin(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("points")
    return Problem(f"{xs}: list[tuple[int, int]]", "tuple[int, int]",
                   f"return the point closest to the origin among the non-empty {r.label('points')}; on a tie, the "
                   "first one", f"return min({xs}, key=lambda point: hypot(*point))",
                   _twice(lambda: _points(rng)), ("from math import hypot",))


@family("compute measure build", "points")
def bounding_box(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("points")
    body = f"""xs = [x for x, _ in {xs}]
ys = [y for _, y in {xs}]
return min(xs), min(ys), max(xs), max(ys)"""
    return Problem(f"{xs}: list[tuple[int, int]]", "tuple[int, int, int, int]",
                   f"return the bounding box (min x, min y, max x, max y) of the non-empty {r.label('points')}",
                   body, _twice(lambda: _points(rng)))


@family("measure compute summarize", "points", "total")
def path_length(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("points")
    return Problem(f"{xs}: list[tuple[int, int]]", "float",
                   f"return the length of the path through the {r.label('points')} in order, rounded to 2 decimals",
                   f"return round(sum(dist(a, b) for a, b in pairwise({xs})), 2)",
                   _twice(lambda: _points(rng)) + (([(0, 0)],),),
                   ("from itertools import pairwise", "from math import dist"))


# More families, so that every default verb has one for numbers and one for words, and modifiers matter.


@family("sort rank order", "numbers", "descending ascending")
def sort_by_key(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    key, words = rng.choice((("abs(value)", "absolute value"), ("value % 10", "last digit"),
                             ("-value", "value, largest first")))
    return Problem(f"{xs}: list[int]", "list[int]",
                   f"sort the {r.label('numbers')} by {words}; values with equal keys keep their original order",
                   f"return sorted({xs}, key=lambda value: {key})", _twice(lambda: _numbers(rng, -30, 30)))


@family("reverse invert transform", "numbers")
def reverse_digits(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    body = f"""result = []
for value in {xs}:
    digits = int(str(abs(value))[::-1])
    result.append(-digits if value < 0 else digits)
return result"""
    return Problem(f"{xs}: list[int]", "list[int]",
                   f"reverse the decimal digits of each of the {r.label('numbers')}, keeping the sign", body,
                   ((_numbers(rng, 10, 999, 4),), (_numbers(rng, -99, 99, 3),)))


@family("validate check detect", "numbers", "sorted ascending")
def is_sorted(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    data = _numbers(rng, size=5)
    return Problem(f"{xs}: list[int]", "bool",
                   f"check that the {r.label('numbers')} are in non-decreasing order",
                   f"return all(a <= b for a, b in pairwise({xs}))", ((sorted(data),), (data + [-1],), ([],)),
                   ("from itertools import pairwise",))


@family("balance find locate split partition", "numbers", "balanced")
def balance_point(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    left, right = _numbers(rng, 1, 9, 3), _numbers(rng, 1, 9, 2)
    body = f"""total, before = sum({xs}), 0
for index, value in enumerate({xs}):
    if before == total - before - value:
        return index
    before += value
return -1"""
    return Problem(f"{xs}: list[int]", "int",
                   f"find the first index where the sum of the {r.label('numbers')} before it equals the sum after "
                   "it, or return -1", body,
                   ((left + [5] + right + [sum(left) - sum(right)],), (_numbers(rng, 1, 9, 4),)))


@family("compress encode summarize", "numbers", "consecutive repeated")
def run_length_pairs(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    return Problem(f"{xs}: list[int]", "list[tuple[int, int]]",
                   f"compress the {r.label('numbers')} into (value, run length) pairs for each run of equal "
                   "neighbours", f"return [(value, len(list(run))) for value, run in groupby({xs})]",
                   _twice(lambda: [v for v in _numbers(rng, 0, 3, 4) for _ in range(rng.randint(1, 3))]),
                   ("from itertools import groupby",))


@family("parse decode extract split convert", "numbers")
def parse_number_list(r: Request, rng: random.Random) -> Problem:
    text = r.parameter("text")
    separator = rng.choice((",", ";", "|"))
    return Problem(f"{text}: str", "list[int]",
                   f"parse {r.noun.replace('_', ' ')} written as integers separated by {separator!r} (spaces "
                   "allowed) into a list; an empty string gives an empty list",
                   f"return [int(part) for part in {text}.split({separator!r}) if part.strip()]",
                   _twice(lambda: f"{separator} ".join(map(str, _numbers(rng, -9, 99, 4)))) + (("",),))


@family("map transform compute", "numbers")
def squares_by_value(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    return Problem(f"{xs}: list[int]", "dict[int, int]",
                   f"map each of the {r.label('numbers')} to its square, in order of first appearance",
                   f"return {{value: value * value for value in {xs}}}", _twice(lambda: _numbers(rng, -9, 9, 4)))


@family("invert swap", "numbers")
def invert_permutation(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    body = f"""inverse = [0] * len({xs})
for position, value in enumerate({xs}):
    inverse[value] = position
return inverse"""
    return Problem(f"{xs}: list[int]", "list[int]",
                   f"the {r.label('numbers')} are a permutation of 0 to n - 1; return its inverse, where position "
                   "v holds the index of v", body, _twice(lambda: rng.sample(range(5), 5)))


@family("find detect list locate", "numbers", "missing")
def missing_numbers(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    return Problem(f"{xs}: list[int]", "list[int]",
                   f"list the whole numbers missing from the {r.label('numbers')} between their smallest and "
                   "largest value", f"present = set({xs})\nreturn [n for n in range(min({xs}), max({xs}) + 1) "
                   "if n not in present]", _twice(lambda: sorted(rng.sample(range(1, 12), 7))))


@family("find locate index", "numbers words", "last first")
def last_index(r: Request, rng: random.Random) -> Problem:
    kind, item = _list_kind(r)
    xs = r.parameter(kind)
    data = _repeating(rng, kind)
    body = f"""for index in range(len({xs}) - 1, -1, -1):
    if {xs}[index] == target:
        return index
return -1"""
    return Problem(f"{xs}: list[{item}], target: {item}", "int",
                   f"return the index of the last occurrence of `target` among the {r.label(kind)}, or -1",
                   body, ((data, rng.choice(data)), (data, "missing" if kind == "words" else 99)))


@family("find select detect", "numbers words", "rare unique")
def singletons(r: Request, rng: random.Random) -> Problem:
    kind, item = _list_kind(r)
    xs = r.parameter(kind)
    return Problem(f"{xs}: list[{item}]", f"list[{item}]",
                   f"return the {r.label(kind)} that occur exactly once, in their original order",
                   f"counts = Counter({xs})\nreturn [item for item in {xs} if counts[item] == 1]",
                   _twice(lambda: _repeating(rng, kind)), ("from collections import Counter",))


@family("average compute summarize estimate", "numbers records", "weighted")
def weighted_average(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("numbers")
    return Problem(f"{xs}: list[int], weights: list[int]", "float",
                   f"return the average of the {r.label('numbers')} weighted by `weights` (same length, positive "
                   "total), rounded to 2 decimals",
                   f"return round(sum(v * w for v, w in zip({xs}, weights)) / sum(weights), 2)",
                   ((_numbers(rng, 0, 20, 3), _numbers(rng, 1, 5, 3)),
                    (_numbers(rng, 0, 20, 4), _numbers(rng, 1, 5, 4))))


@family("generate pair list build combine", "numbers words")
def pair_combinations(r: Request, rng: random.Random) -> Problem:
    kind, item = _list_kind(r)
    xs = r.parameter(kind)
    return Problem(f"{xs}: list[{item}]", f"list[tuple[{item}, {item}]]",
                   f"list every pair of two different positions among the {r.label(kind)}, in order",
                   f"return list(combinations({xs}, 2))",
                   ((_items(rng, kind, 3),), (_items(rng, kind, 4),)), ("from itertools import combinations",))


@family("compare match combine", "numbers words", "common matching")
def common_items(r: Request, rng: random.Random) -> Problem:
    kind, item = _list_kind(r)
    xs = r.parameter(kind)
    return Problem(f"{xs}: list[{item}], others: list[{item}]", f"list[{item}]",
                   f"return the {r.label(kind)} that also appear in `others`, in their order, without repeats",
                   f"wanted = set(others)\nreturn [item for item in dict.fromkeys({xs}) if item in wanted]",
                   _twice(lambda: _repeating(rng, kind), _repeating(rng, kind)))


# Words, continued.


@family("join add combine build format", "words")
def join_words(r: Request, rng: random.Random) -> Problem:
    xs, separator = r.parameter("words"), rng.choice((", ", " | ", "-", " and "))
    return Problem(f"{xs}: list[str], separator: str", "str",
                   f"join the {r.label('words')} into one string, with `separator` between them",
                   f"return separator.join({xs})", _twice(lambda: _words(rng), separator) + (([], separator),))


@family("average measure estimate compute", "words", "average")
def average_length(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("words")
    return Problem(f"{xs}: list[str]", "float",
                   f"return the average length of the {r.label('words')}, rounded to 2 decimals (0.0 if there "
                   "are none)", f"return round(sum(map(len, {xs})) / len({xs}), 2) if {xs} else 0.0",
                   _twice(lambda: _words(rng)) + (([],),))


@family("clamp limit trim round scale", "words", "longest shortest")
def truncate_words(r: Request, rng: random.Random) -> Problem:
    xs, width = r.parameter("words"), rng.randint(3, 5)
    return Problem(f"{xs}: list[str], width: int", "list[str]",
                   f"shorten each of the {r.label('words')} to at most `width` characters",
                   f"return [word[:width] for word in {xs}]", _twice(lambda: _words(rng), width))


@family("encode compress format build", "words", "upper first")
def acronym(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("words")
    return Problem(f"{xs}: list[str]", "str",
                   f"encode the non-empty {r.label('words')} as an acronym: their first letters, upper case",
                   f"return ''.join(word[0].upper() for word in {xs} if word)", _twice(lambda: _words(rng)))


@family("flatten expand split", "words")
def letters_of(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("words")
    return Problem(f"{xs}: list[str]", "list[str]",
                   f"expand the {r.label('words')} into one list of their characters, in order",
                   f"return [char for word in {xs} for char in word]", _twice(lambda: _words(rng, 2)))


@family("score label rank measure compute", "words")
def letter_scores(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("words")
    return Problem(f"{xs}: list[str]", "dict[str, int]",
                   f"score each of the {r.label('words')} by the sum of its letters' positions in the alphabet "
                   "(a = 1, ..., z = 26, other characters 0)",
                   f"return {{word: sum(ord(c) - 96 for c in word.lower() if 'a' <= c <= 'z') for word in {xs}}}",
                   _twice(lambda: _words(rng)))


@family("locate find index select", "words", "first matching")
def first_with_prefix(r: Request, rng: random.Random) -> Problem:
    xs, data = r.parameter("words"), _words(rng, 5)
    body = f"""for index, word in enumerate({xs}):
    if word.startswith(prefix):
        return index
return -1"""
    return Problem(f"{xs}: list[str], prefix: str", "int",
                   f"return the index of the first of the {r.label('words')} that starts with `prefix`, or -1",
                   body, ((data, rng.choice(data)[:2]), (data, "qq")))


@family("normalize trim clean convert", "words", "lower")
def normalize_words(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("words")

    def messy() -> list[str]:
        templates = ("  {} ", "{}", "{}  {}")
        return [rng.choice(templates).format(*(w.upper() if rng.random() < 0.5 else w for w in _words(rng, 2)))
                for _ in range(3)]

    return Problem(f"{xs}: list[str]", "list[str]",
                   f"normalize the {r.label('words')}: lowercase, no spaces at either end, single spaces inside",
                   f"return [' '.join(word.lower().split()) for word in {xs}]", _twice(messy))


@family("reverse invert transform", "words")
def reverse_each(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("words")
    return Problem(f"{xs}: list[str]", "list[str]", f"reverse each of the {r.label('words')}, keeping their order",
                   f"return [word[::-1] for word in {xs}]", _twice(lambda: _words(rng)))


@family("parse decode split extract", "words")
def parse_entries(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("words")
    body = f"""result = {{}}
for entry in {xs}:
    name, _, number = entry.partition(':')
    result[name.strip()] = int(number)
return result"""
    return Problem(f"{xs}: list[str]", "dict[str, int]",
                   f"parse the {r.label('words')}, each written as 'name:number', into a dictionary", body,
                   _twice(lambda: [f"{w}:{rng.randint(0, 50)}" for w in _words(rng, 3)]))


@family("filter trim select clean", "words", "empty")
def drop_empty(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("words")
    return Problem(f"{xs}: list[str]", "list[str]",
                   f"remove the empty or blank {r.label('words')}, keeping the others in order",
                   f"return [word for word in {xs} if word.strip()]",
                   _twice(lambda: rng.sample([*_words(rng, 3), "", "  ", ""], 6)))


@family("convert transform format", "words", "upper lower")
def change_case(r: Request, rng: random.Random) -> Problem:
    xs = r.parameter("words")
    method = "lower" if r.modifier == "lower" else "upper"
    return Problem(f"{xs}: list[str]", "list[str]", f"convert each of the {r.label('words')} to {method} case",
                   f"return [word.{method}() for word in {xs}]",
                   _twice(lambda: [w.capitalize() if rng.random() < 0.5 else w for w in _words(rng)]))


DOMAIN_LEADS = ("In {a} {domain} app", "For {a} {domain} tool", "In a program about {domain}",
                "As part of {a} {domain} system")


def split_name(name: str) -> list[str]:
    """The lowercase words of an identifier, in snake_case or camelCase."""
    return [w.lower() for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", name)]


def identifier(name: str) -> str:
    """`name` as a Python identifier: other characters become '_', a leading digit or a keyword gets one more."""
    text = re.sub(r"\W", "_", name.strip()) or "solve"
    return f"_{text}" if text[0].isdigit() else f"{text}_" if keyword.iskeyword(text) else text


def parse_request(name: str, domain: str) -> Request:
    """verb = the first word of the name, noun = the last (of two or more), modifier = a word in between."""
    words = split_name(name) or ["solve"]
    noun = words[-1] if len(words) > 1 else "values"
    modifier = next((w for w in words[1:-1] if any(w in f.modifiers for f in FAMILIES.values())),
                    words[1] if len(words) > 2 else "")
    return Request(identifier(name), words[0], modifier, noun, KIND_OF_NOUN.get(noun, "numbers"), domain.strip())


def choose_family(r: Request, rng: random.Random) -> Family:
    """A family for the verb (any family for an unknown verb), preferring those that suit the noun's kind of
    data, then those that use the modifier."""
    candidates = [f for f in FAMILIES.values() if r.verb in f.verbs] or list(FAMILIES.values())
    fitting = [f for f in candidates if r.kind in f.kinds or (r.kind == "numbers" and "nested" in f.kinds)]
    candidates = fitting or candidates
    candidates = [f for f in candidates if r.modifier in f.modifiers] or candidates
    return rng.choice(candidates)


def _well_formed(source: str, name: str) -> bool:
    """True if `source` compiles and no parameter of `name` is reassigned or shadowed in its body."""
    try:
        tree = ast.parse(source)
        compile(tree, "<exercise>", "exec", dont_inherit=True)
    except SyntaxError:
        return False
    function = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)
    parameters = {a.arg for a in function.args.args}
    bound = set().union(*(_names(statement)[1] for statement in function.body))
    return not parameters & bound


def _perturbed(value: Any) -> Any:
    """A value of the same type that differs from `value`: a plausible but wrong expected output."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return round(value + 1, 2)
    if isinstance(value, str):
        return value[:-1] if len(value) > 1 else value + "x"
    if isinstance(value, (list, tuple)):
        return value[:-1] if value else type(value)([0])
    if isinstance(value, dict):
        return dict(list(value.items())[:-1]) if value else {"": 0}
    return 0


@dataclass(frozen=True)
class Exercise:
    """A written exercise: its imports, signature line, docstring text, doctest examples and body."""

    imports: tuple[str, ...]
    signature: str  # "def name(params) -> returns:"
    task: str
    examples: tuple[tuple[str, str], ...]  # (call source, expected output)
    body: str  # indented

    def source(self, with_examples: bool = True, closed_docstring: bool = True) -> str:
        lines = textwrap.wrap(self.task, width=84)
        doc = [f'    """{lines[0]}', *(f"    {line}" for line in lines[1:])]
        if with_examples and self.examples:
            doc += ["", *(f"    >>> {call}\n    {want}" for call, want in self.examples)]
        doc.append('    """' if closed_docstring else "")
        prefix = "r" if any("\\" in line for line in doc) else ""  # keep a backslash in an example literal
        doc[0] = doc[0].replace('"""', prefix + '"""', 1)
        header = "\n".join(self.imports) + "\n\n\n" if self.imports else ""
        return f"{header}{self.signature}\n" + "\n".join(doc) + f"\n{self.body}\n"


MAX_ATTEMPTS = 8


def build_exercise(name: str, domain: str, rng: random.Random) -> Exercise:
    """A correct exercise for the function `name`: doctest outputs come from running the reference solution.
    If the solution fails (a name that shadows a builtin it uses, such as `sum`), another family is tried."""
    request = parse_request(name, domain)
    family = choose_family(request, rng)
    for _ in range(MAX_ATTEMPTS):
        try:
            return family_exercise(family, request, rng)
        except Exception:  # the generated solution failed on its own examples
            family = rng.choice(list(FAMILIES.values()))
    raise RuntimeError(f"no problem family gives a working exercise for {name!r}")


def family_exercise(family: Family, request: Request, rng: random.Random) -> Exercise:
    """The family's exercise for `request` with the outputs of its examples, computed by running the solution."""
    state = rng.getstate()
    problem = family.build(request, rng)
    exercise = _draft(request, problem, rng)
    if not _well_formed(exercise.source(), request.name):  # the noun clashes with a name in the body
        rng.setstate(state)
        problem = family.build(replace(request, kind="generic"), rng)
        exercise = _draft(request, problem, rng)
    namespace: dict[str, Any] = {}
    exec(compile(exercise.source(with_examples=False), "<exercise>", "exec", dont_inherit=True), namespace)
    function = namespace[request.name]
    examples = []
    for arguments in problem.calls:
        call = f"{request.name}({', '.join(map(repr, arguments))})"
        result = function(*copy.deepcopy(arguments))
        examples.append((f"{call} is None", "True") if result is None else (call, repr(result)))
    return replace(exercise, examples=tuple(examples))


def _draft(r: Request, problem: Problem, rng: random.Random) -> Exercise:
    domain = r.domain or "general-purpose"
    lead = rng.choice(DOMAIN_LEADS).format(a="an" if domain[0].lower() in "aeiou" else "a", domain=domain)
    return Exercise(problem.imports, f"def {r.name}({problem.params}) -> {problem.returns}:",
                    f"{lead}, {problem.task}.", (), textwrap.indent(problem.body, "    "))


def other_name(name: str) -> str:
    """A near miss for `name`, as a careless answer would use: camelCase, or a suffix."""
    words = split_name(name)
    camel = words[0] + "".join(w.capitalize() for w in words[1:]) if words else ""
    return camel if camel and camel != name else f"{name}_solution"


def write_exercise(name: str, domain: str, rng: random.Random, flaw: str | None = None) -> str:
    """The answer to an exercise prompt: one ```python block with the function `name`, set in `domain`;
    with `flaw` (one of FLAW_KINDS), deliberately broken in that way."""
    exercise = build_exercise(name, domain, rng)
    source = exercise.source()
    match flaw:
        case None:
            pass
        case "wrong_output":
            index = rng.randrange(len(exercise.examples))
            call, want = exercise.examples[index]
            wrong = "False" if want == "True" else repr(_perturbed(ast.literal_eval(want)))
            examples = exercise.examples[:index] + ((call, wrong),) + exercise.examples[index + 1:]
            source = replace(exercise, examples=examples).source()
        case "syntax_error":
            source = (source.replace(exercise.signature, exercise.signature.removesuffix(":"), 1)
                      if rng.random() < 0.5 else exercise.source(closed_docstring=False))
        case "wrong_name":
            function_name = identifier(name)
            source = source.replace(f"def {function_name}(", f"def {other_name(function_name)}(", 1)
        case "no_examples":
            source = exercise.source(with_examples=False)
        case "infinite_loop":
            source = replace(exercise, body="    while True:\n        pass\n" + exercise.body).source()
        case _:
            raise ValueError(f"unknown flaw {flaw!r}; expected one of {FLAW_KINDS}")
    return f"```python\n{source}```"


def draw_flaw(rng: random.Random) -> str | None:
    """The flaw of one answer: None with probability 1 - FLAW_RATE, else one of FLAW_KINDS, by FLAW_WEIGHTS."""
    return rng.choices(FLAW_KINDS, FLAW_WEIGHTS)[0] if rng.random() < FLAW_RATE else None


class ExerciseGenerator:
    """Answers exercise prompts (EXERCISE_MARKER, with Function name/Domain lines) with write_exercise, after
    drawing the answer's flaw (draw_flaw) first from its rng."""

    def matches(self, messages: Messages) -> bool:
        return EXERCISE_MARKER in last_user_text(messages)

    def respond(self, messages: Messages, rng: random.Random) -> str:
        fields = prompt_fields(last_user_text(messages))
        flaw = draw_flaw(rng)
        return write_exercise(fields.get("Function name", "solve"), fields.get("Domain", ""), rng, flaw)
