"""Validation of CodeExercises: a teacher response becomes an `Exercise` only if its code is one
self-contained, documented function whose doctest examples pass when run in the sandbox.

phi-1's CodeExercises pair a task (a function signature and a docstring) with its solution
(the body). The teacher is asked (`EXERCISE_PROMPT`) for one ```python block holding exactly
one top-level function with type hints, a docstring with at least two doctest examples, and
the body; standard-library imports are allowed. Static checks run here, in order; an exercise
that passes them all runs its examples in a `Sandbox`, and a failure there rejects it too.
"""

from __future__ import annotations

import ast
import doctest
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from phi1repro.sandbox import Limits, Outcome, Sandbox

MIN_EXAMPLES = 2
VALIDATION_LIMITS = Limits(timeout_s=2.0)
STATIC_REASONS = ("no_code", "syntax_error", "missing_function", "several_functions", "no_docstring",
                  "no_examples", "top_level_code")
EXECUTION_REASONS = ("examples_failed", "exception", "timeout", "out_of_memory", "killed", "exited_early")
REJECTION_REASONS = STATIC_REASONS + EXECUTION_REASONS
# The sandbox's status of a run -> the reason to reject the exercise (None: its examples passed).
# A syntax error surfaces only at compile time (e.g. a misplaced `from __future__` import).
_REASON_BY_STATUS = {"passed": None, "assertion_failed": "examples_failed", "exception": "exception",
                     "syntax_error": "syntax_error", "timeout": "timeout", "out_of_memory": "out_of_memory",
                     "killed": "killed", "exited_early": "exited_early"}

# A fenced block: its info string (language tag) and its text; an unclosed one runs to the end.
_FENCE = re.compile(r"^[ \t]*```[ \t]*([^\n`]*)\n(.*?)(?:^[ \t]*```[ \t]*$|\Z)", re.MULTILINE | re.DOTALL)
_PYTHON_TAGS = ("python", "python3", "py", "")
_DOCTEST_PARSER = doctest.DocTestParser()

# Appended to an exercise's code: run its function's docstring examples, stop at the first
# failure with an AssertionError that shows it. An example that exits or exhausts memory
# re-raises that, so that the sandbox reports it as such (doctest would count it a failure).
_HARNESS = '''

def _check_examples(function):
    import doctest

    class FailFast(doctest.DocTestRunner):
        def report_failure(self, out, test, example, got):
            raise AssertionError(f"{example.source.strip()}\\nexpected: {example.want.strip()}\\ngot: {got.strip()}")

        def report_unexpected_exception(self, out, test, example, exc_info):
            error = exc_info[1]
            if isinstance(error, (SystemExit, MemoryError)):
                raise error
            raise AssertionError(f"{example.source.strip()}\\nraised {type(error).__name__}: {error}")

    test = doctest.DocTestParser().get_doctest(function.__doc__, dict(globals()), function.__name__, None, 0)
    FailFast(verbose=False, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE).run(test)
'''


@dataclass(frozen=True)
class Exercise:
    """A validated exercise. `code` == `task` + `solution`: the imports and the function's
    signature with its docstring (what a model is prompted with), then the function body."""

    name: str
    code: str
    task: str
    solution: str
    imports: tuple[str, ...]  # top-level modules imported anywhere in the code, sorted
    examples: int  # doctest examples in the docstring

    @property
    def program(self) -> str:
        """The code followed by a harness that runs the docstring examples."""
        return f"{self.code}{_HARNESS}\n\n_check_examples({self.name})\n"


@dataclass(frozen=True)
class Rejection:
    reason: str  # one of STATIC_REASONS
    detail: str = ""


@dataclass(frozen=True)
class Verdict:
    """The validation of one response: valid when `reason` is None. `exercise` is set whenever the
    static checks passed (also when running the examples then failed); `seconds` is the run's wall time."""

    reason: str | None
    detail: str = ""
    exercise: Exercise | None = None
    seconds: float = 0.0

    @property
    def valid(self) -> bool:
        return self.reason is None


def extract_code(response: str) -> str | None:
    """The code of the first python (or untagged) fenced block; without one, the whole response
    if it parses as Python; else None."""
    for fence in _FENCE.finditer(response):
        if fence.group(1).strip().lower() in _PYTHON_TAGS:
            return _normalize(fence.group(2))
    code = _normalize(response)
    try:
        ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return code


def _normalize(code: str) -> str:
    code = textwrap.dedent(code.replace("\r\n", "\n")).strip("\n")
    return code + "\n" if code.strip() else ""


def parse_exercise(response: str, name: str) -> Exercise | Rejection:
    """Apply the static checks to a teacher response for function `name`."""
    code = extract_code(response)
    if not code:
        return Rejection("no_code")
    try:
        module = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:  # nesting too deep: RecursionError
        return Rejection("syntax_error", f"{type(error).__name__}: {error}")
    definitions = [node for node in module.body
                   if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    functions = [node for node in definitions if isinstance(node, ast.FunctionDef) and node.name == name]
    if not functions:
        return Rejection("missing_function", f"no top-level function named {name}")
    if len(definitions) > 1:
        return Rejection("several_functions", ", ".join(node.name for node in definitions))
    function = functions[0]
    docstring = ast.get_docstring(function, clean=False)
    if not docstring or not docstring.strip():
        return Rejection("no_docstring")
    try:
        examples = len(_DOCTEST_PARSER.get_examples(docstring, name))
    except ValueError as error:  # malformed examples, e.g. no space after >>>
        return Rejection("no_examples", str(error))
    if examples < MIN_EXAMPLES:
        return Rejection("no_examples", f"{examples} doctest example(s), at least {MIN_EXAMPLES} needed")
    imports = [node for node in module.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    module_docstring = module.body[0] if ast.get_docstring(module, clean=False) is not None else None
    for node in module.body:
        if node is not function and node is not module_docstring and node not in imports:
            return Rejection("top_level_code", f"line {node.lineno}: {code.splitlines()[node.lineno - 1].strip()[:80]}")
    return _split(code, function, imports, examples)


def _split(code: str, function: ast.FunctionDef, imports: list[ast.stmt], examples: int) -> Exercise:
    """Cut the code at the end of the docstring: imports + signature + docstring | body."""
    lines = code.splitlines(keepends=True)
    first = min([function.lineno] + [decorator.lineno for decorator in function.decorator_list])
    docstring_end = function.body[0].end_lineno
    import_lines = "".join("".join(lines[node.lineno - 1:node.end_lineno]) for node in imports)
    task = (import_lines + "\n\n" if imports else "") + "".join(lines[first - 1:docstring_end])
    solution = "".join(lines[docstring_end:function.end_lineno])
    return Exercise(function.name, task + solution, task, solution, _imported_modules(function, imports), examples)


def _imported_modules(function: ast.FunctionDef, imports: list[ast.stmt]) -> tuple[str, ...]:
    modules = set()
    for node in [*imports, *ast.walk(function)]:
        if isinstance(node, ast.Import):
            modules.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module.partition(".")[0])
    return tuple(sorted(modules))


def _verdict(outcome: Outcome, exercise: Exercise) -> Verdict:
    return Verdict(_REASON_BY_STATUS[outcome.status], outcome.detail, exercise, outcome.seconds)


class ExerciseValidator:
    """Validates teacher responses with a `Sandbox` of `workers` workers under `limits` (by
    default 2 s of wall time per exercise); a context manager."""

    def __init__(self, workers: int, limits: Limits = VALIDATION_LIMITS):
        self.sandbox = Sandbox(workers, limits)

    def validate(self, items: Sequence[tuple[str, str]]) -> list[Verdict]:
        """Verdicts for (function name, response) pairs, in order. Static rejections never reach the sandbox."""
        parsed = [parse_exercise(response, name) for name, response in items]
        exercises = [exercise for exercise in parsed if isinstance(exercise, Exercise)]
        outcomes = iter(self.sandbox.run([exercise.program for exercise in exercises], desc="validate exercises"))
        return [_verdict(next(outcomes), item) if isinstance(item, Exercise) else Verdict(item.reason, item.detail)
                for item in parsed]

    def close(self) -> None:
        self.sandbox.close()

    def __enter__(self) -> ExerciseValidator:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
