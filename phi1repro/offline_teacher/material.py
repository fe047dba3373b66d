"""The documentation the textbook generator quotes, and the examples in it that pass when run.

Documentation is real text that ships with Python: the docstrings of the builtins and of SAFE_MODULES,
and the language reference as pydoc shows it (pydoc_data.topics). Each documented thing becomes a
Material: the first prose paragraph of its text, its signature, and its `>>>` examples turned into
scripts. A doctest example is kept only while it passes doctest's check, and the output shown under it
is what its script printed when run in the sandbox.
"""

from __future__ import annotations

import ast
import builtins
import doctest
import importlib
import inspect
import re
from collections.abc import Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from .sandbox import MAX_LINE_CHARS, SAFE_MODULES, Sandbox, acceptable, names_read_and_bound, run_script, safe_module

NO_DOCTEST_MODULES = frozenset({"decimal", "random"})  # their examples change process-wide state (context, seed)
BUILTIN_TYPES = (str, list, dict, set, frozenset, tuple, int, float, bytes, range)
SITE_BUILTINS = frozenset({"copyright", "credits", "exit", "help", "license", "quit"})
MAX_CODE_LINES = 14


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


def _import_line(name: str, home: ModuleType) -> str | None:
    """An import statement that defines `name` as it is known in `home`, or None."""
    value = getattr(home, name, None) if home is not builtins else None
    if value is None:
        return f"import {name}" if name in SAFE_MODULES else None
    if inspect.ismodule(value):
        if not safe_module(value.__name__):
            return None
        return f"import {value.__name__}" + ("" if value.__name__ == name else f" as {name}")
    origin = getattr(value, "__module__", None) or home.__name__
    if not (safe_module(origin) and getattr(importlib.import_module(origin), name, None) is value):
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
    read, bound = names_read_and_bound(tree)
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
    if not acceptable(tree):
        return None
    sandbox, checker = Sandbox(), doctest.OutputChecker()
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
    except Exception:  # a failing example ends the verified start (Unstable and SyntaxError included)
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


def first_sentences(text: str, count: int) -> str:
    return " ".join(_SENTENCE_END.split(text)[:count])


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



def documentation() -> dict[str, Material]:
    """The documented builtins, members of SAFE_MODULES and sections of the language reference, by key."""
    from pydoc_data.topics import topics as reference  # the language reference as pydoc shows it

    modules = [importlib.import_module(name) for name in SAFE_MODULES]
    found = [*_builtin_materials(), *(m for module in modules for m in _module_materials(module))]
    found += [_reference_material(name, text) for name, text in sorted(reference.items())]
    return {m.key: m for m in found if m and m.summary}
