"""The offline teacher's answer to Table 2's grading prompt: syntax-tree similarity to the reference.

A procedural stand-in, not a judgement. The grade is 10 x the similarity (difflib's ratio, rounded
down) of the sequences of syntax-node types, constants with their values, in the function bodies of
the student's and the reference's code, docstrings left out: 10 for the reference's own structure, 9
for a one-token slip. Code that does not parse gets 0. It rewards a solution built like the
reference, as a grader comparing against one would, and cannot see an equally good other approach.
"""

from __future__ import annotations

import ast
import difflib
import math
import re
from collections.abc import Iterator

from phi1repro.paper.grading import GRADING_MARKER
from phi1repro.teacher.scores import SOLUTION_GRADE

from .messages import Messages, marked_text, message_text

_FENCE = re.compile(r"```python\n(.*?)```", re.DOTALL)


def body_nodes(code: str) -> list[str]:
    """Node types (constants with their value), in pre-order, of the bodies of the functions `code` defines
    (docstrings left out)."""
    nodes = []
    for function in ast.walk(ast.parse(code)):
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = function.body[1:] if ast.get_docstring(function) is not None else function.body
            for statement in body:
                nodes.extend(_preorder(statement))
    return nodes


def _preorder(node: ast.AST) -> Iterator[str]:
    yield f"Constant {node.value!r}" if isinstance(node, ast.Constant) else type(node).__name__
    for child in ast.iter_child_nodes(node):
        yield from _preorder(child)


def grade(reference: str, student: str) -> tuple[int, str]:
    try:
        theirs = body_nodes(student)
    except SyntaxError as e:
        return 0, f"the solution does not parse ({e.msg}, line {e.lineno})"
    if not theirs or theirs == ["Pass"] or theirs == ["Expr", "Constant"]:
        return 0, "the function has no body"
    similarity = difflib.SequenceMatcher(None, body_nodes(reference), theirs, autojunk=False).ratio()
    return math.floor(10 * similarity + 1e-9), f"its syntax tree is {similarity:.0%} similar to the reference's (offline grader)"


class GradingGenerator:
    """Answers the grading prompt (phi1repro/paper/grading.py) as 'grade: N\\nreason: ...'."""

    marker, scale, label = GRADING_MARKER, SOLUTION_GRADE, "Grade"

    def matches(self, messages: Messages) -> bool:
        return any(GRADING_MARKER in message_text(m) for m in messages)

    def judge(self, messages: Messages) -> tuple[int, str]:
        blocks = _FENCE.findall(marked_text(messages, GRADING_MARKER))
        if len(blocks) < 3:
            return 0, "the request holds no reference and student solution to compare"
        return grade(blocks[1], blocks[2])

    def respond(self, messages: Messages, rng) -> str:
        return "grade: {}\nreason: {}".format(*self.judge(messages))
