import textwrap

import pytest

from phi1repro.sandbox import Limits
from phi1repro.synth.validate import (
    REJECTION_REASONS,
    STATIC_REASONS,
    Exercise,
    ExerciseValidator,
    Rejection,
    parse_exercise,
)

TASK = '''from collections import Counter


def top_words(words: list[str], k: int) -> list[str]:
    """Return the k most frequent words, ties broken alphabetically.

    >>> top_words(["b", "a", "b", "c", "a", "b"], 2)
    ['b', 'a']
    >>> top_words(["x"], 1)
    ['x']
    """
'''
SOLUTION = '''    import heapq
    counts = Counter(words)
    return heapq.nsmallest(k, counts, key=lambda w: (-counts[w], w))
'''
RESPONSE = f"""Sure! Here is an exercise about word counts.

```python
{TASK}{SOLUTION}```

The solution counts the words with a Counter.
"""


def exercise(signature: str, docstring: str, body: str, header: str = "", footer: str = "") -> str:
    """A response holding one function; its docstring and body are given unindented."""
    docstring = textwrap.indent(f'"""{docstring}"""', "    ")
    return f"```python\n{header}{signature}\n{docstring}\n{textwrap.indent(body, '    ')}\n{footer}```\n"


TWO_EXAMPLES = "Add one.\n\n>>> inc(1)\n2\n>>> inc(-1)\n0\n"


@pytest.fixture(scope="module")
def validator():
    with ExerciseValidator(2, Limits(timeout_s=1.0)) as validator:
        yield validator


def test_valid_exercise_is_split_into_task_and_solution(validator):
    [verdict] = validator.validate([("top_words", RESPONSE)])
    assert verdict.valid, verdict.detail
    assert verdict.exercise == Exercise(name="top_words", code=TASK + SOLUTION, task=TASK, solution=SOLUTION,
                                        imports=("collections", "heapq"), examples=2)
    assert verdict.seconds > 0


def test_whole_response_is_code_without_a_fence():
    parsed = parse_exercise(TASK + SOLUTION, "top_words")
    assert isinstance(parsed, Exercise) and parsed.code == TASK + SOLUTION


def test_code_comes_from_the_first_python_block():
    response = f"Output:\n```text\n['b', 'a']\n```\n\n```Python\n{TASK}{SOLUTION}```\n\n```python\nprint(1)\n```\n"
    parsed = parse_exercise(response, "top_words")
    assert isinstance(parsed, Exercise) and parsed.code == TASK + SOLUTION


def test_module_docstring_and_decorators():
    response = exercise("@functools.cache\ndef inc(n: int) -> int:", TWO_EXAMPLES, "return n + 1",
                        header='"""Incrementing."""\nimport functools\n\n\n')
    parsed = parse_exercise(response, "inc")
    assert isinstance(parsed, Exercise), parsed
    assert parsed.task.startswith("import functools\n\n\n@functools.cache\ndef inc(n: int) -> int:\n")
    assert parsed.solution == "    return n + 1\n"


@pytest.mark.parametrize(("response", "reason"), [
    ("I'm sorry, I cannot write that exercise.", "no_code"),
    ("```python\n\n```", "no_code"),
    ("```python\ndef inc(n: int) -> int:\n    return n +\n```", "syntax_error"),
    (exercise("def increment(n: int) -> int:", TWO_EXAMPLES, "return n + 1"), "missing_function"),
    (exercise("def inc(n: int) -> int:", TWO_EXAMPLES, "return n + 1", header="def helper():\n    pass\n\n\n"),
     "several_functions"),
    (exercise("def inc(n: int) -> int:", TWO_EXAMPLES, "return n + 1", header="class Box:\n    pass\n\n\n"),
     "several_functions"),
    ("```python\ndef inc(n: int) -> int:\n    return n + 1\n```", "no_docstring"),
    (exercise("def inc(n: int) -> int:", "Add one.\n\n>>> inc(1)\n2\n", "return n + 1"), "no_examples"),
    (exercise("def inc(n: int) -> int:", "Add one.\n\n>>>inc(1)\n2\n>>> inc(2)\n3\n", "return n + 1"),
     "no_examples"),
    (exercise("def inc(n: int) -> int:", TWO_EXAMPLES, "return n + 1", header="print('hello')\n\n\n"),
     "top_level_code"),
    (exercise("def inc(n: int) -> int:", TWO_EXAMPLES, "return n + 1",
              footer="\n\nif __name__ == '__main__':\n    print(inc(1))\n"), "top_level_code"),
])
def test_static_rejections(response, reason):
    parsed = parse_exercise(response, "inc")
    assert isinstance(parsed, Rejection) and parsed.reason == reason, parsed
    assert reason in STATIC_REASONS


def test_helpers_nested_in_the_function_are_fine():
    body = "def step(m):\n    return m + 1\n\nreturn step(n)"
    assert isinstance(parse_exercise(exercise("def inc(n: int) -> int:", TWO_EXAMPLES, body), "inc"), Exercise)


def test_static_rejections_never_reach_the_sandbox(validator):
    [verdict] = validator.validate([("inc", "no code here")])
    assert (verdict.reason, verdict.exercise, verdict.seconds) == ("no_code", None, 0.0)


@pytest.mark.parametrize(("docstring", "body", "reason", "detail"), [
    ("Add one.\n\n>>> inc(1)\n2\n>>> inc(2)\n4\n", "return n + 1", "examples_failed",
     "AssertionError: inc(2)\nexpected: 4\ngot: 3"),
    (TWO_EXAMPLES, "return n + undefined", "examples_failed", "AssertionError: inc(1)\nraised NameError"),
    (TWO_EXAMPLES, "while True:\n    pass", "timeout", "wall time limit"),
    ("Add one.\n\n>>> import sys; sys.exit(0)\n>>> inc(1)\n2\n", "return n + 1", "exited_early", "SystemExit: 0"),
    (TWO_EXAMPLES, "import os\nos._exit(0)", "exited_early", "exit status 0"),
    (TWO_EXAMPLES, "return len(bytearray(1 << 40))", "out_of_memory", "MemoryError"),
])
def test_execution_rejections(validator, docstring, body, reason, detail):
    [verdict] = validator.validate([("inc", exercise("def inc(n: int) -> int:", docstring, body))])
    assert (verdict.reason, verdict.detail[:len(detail)]) == (reason, detail)
    assert reason in REJECTION_REASONS
    assert verdict.exercise is not None and verdict.exercise.name == "inc"


def test_examples_compare_with_ellipsis_and_normalized_whitespace(validator):
    docstring = "Count up.\n\n>>> upto(30)\n[0, 1, 2, ..., 29]\n>>> upto(3)\n[0,\n 1, 2]\n"
    response = exercise("def upto(n: int) -> list[int]:", docstring, "return list(range(n))")
    [verdict] = validator.validate([("upto", response)])
    assert verdict.valid, verdict.detail


def test_verdicts_in_input_order_with_mixed_results(validator):
    items = [("top_words", RESPONSE), ("inc", "no code here"),
             ("inc", exercise("def inc(n: int) -> int:", TWO_EXAMPLES, "return n + 2")), ("top_words", RESPONSE)]
    assert [verdict.reason for verdict in validator.validate(items)] == [None, "no_code", "examples_failed", None]
