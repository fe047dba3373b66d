"""The demo's held-out benchmark: CodeExercises that no model trains on, in HumanEval's format.

Training asks the teacher for the exercises of the name ledger's first `synth.exercises.count`
names. The held-out set asks the same teacher, with the same prompt, settings and validation, for
the next `synth.heldout.count` names: no held-out function name, prompt, request seed or answer is
ever part of CodeExercises, by construction; the decontamination stage then measures its overlap
with every training dataset, as it does for HumanEval.

Each valid exercise becomes a HumanEval problem: the prompt is its imports, signature and docstring
(with its doctest examples, as training shows them), the canonical solution its body, and the tests
its doctest examples as asserts on `candidate`, which the sandbox's judge runs like HumanEval's.
An exercise whose examples cannot all be asserts (an output that is not a Python literal), or whose
examples check no value (only that a function that changes its argument returns None), is left out
and counted.

It is not one of the paper's benchmarks, nor a measure of coding skill: its problems come from the
teacher that wrote CodeExercises, with the same syntax trees up to names, so it measures whether a model
learned the exercises' format (new names, domains and values for tasks of familiar kinds). Recipes are
chosen on the real-code validation set instead (results/validation/realcode.jsonl).
"""

from __future__ import annotations

import ast
import doctest
import json
import logging
import tempfile
from collections import Counter
from pathlib import Path

from ..io import atomic_path, read_parquet, write_json
from ..teacher.client import TeacherConfig
from .generate import exercise_prompts, generate_exercises

log = logging.getLogger(__name__)

BENCHMARK = "heldout"
_PARSER = doctest.DocTestParser()


class _Candidate(ast.NodeTransformer):
    """Calls of the exercise's function become calls of `candidate`."""

    def __init__(self, name: str):
        self.name = name

    def visit_Name(self, node: ast.Name) -> ast.Name:
        return ast.copy_location(ast.Name("candidate", node.ctx), node) if node.id == self.name else node


def check_function(name: str, docstring: str) -> str | None:
    """HumanEval's `check(candidate)` from a docstring's doctest examples: an example with an output
    asserts that its expression equals that output (a literal); one without runs as a statement.
    None if an output is not a literal, or if no example checks a value (only `... is None`)."""
    lines, checks_a_value = [], False
    for example in _PARSER.get_examples(docstring, name):
        tree = _Candidate(name).visit(ast.parse(example.source))
        if not example.want.strip():
            lines.append(ast.unparse(tree))
            continue
        if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr):
            return None
        try:
            want = ast.literal_eval(example.want.strip())
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return None
        expression = tree.body[0].value
        checks_a_value |= not (isinstance(expression, ast.Compare) and isinstance(expression.ops[0], ast.Is))
        lines.append(f"assert ({ast.unparse(expression)}) == {want!r}")
    return "def check(candidate):\n" + "".join(f"    {line}\n" for line in lines) if checks_a_value else None


def exercise_problem(row: dict) -> dict | None:
    """A valid exercise row (results/synthetic/exercises' schema) as a HumanEval problem, or None."""
    function = next(node for node in ast.parse(row["text"]).body
                    if isinstance(node, ast.FunctionDef) and node.name == row["name"])
    test = check_function(row["name"], ast.get_docstring(function, clean=True) or "")
    if test is None:
        return None
    return {"task_id": f"Heldout/{row['index']}", "prompt": row["task"], "canonical_solution": row["solution"],
            "test": test, "entry_point": row["name"], "domain": row["domain"], "request_key": row["request_key"]}


def heldout_indices(exercises: dict, count: int, seed: int) -> range:
    """The ledger indices of the held-out names: the `count` that follow the training exercises'."""
    names = exercise_prompts(exercises, seed).names
    stop = exercises["count"] + count
    if stop > names.size:
        raise ValueError(f"synth.exercises.count + synth.heldout.count is {stop:,}, but the vocabularies give only "
                         f"{names.size:,} distinct function names: add verbs, modifiers or nouns")
    return range(exercises["count"], stop)


def generate_heldout(exercises: dict, count: int, seed: int, teacher: TeacherConfig, batch: bool, out: str,
                     rejected_out: str, stats_out: str) -> dict:
    """Ask for, validate and convert the held-out exercises; write the problems as JSON lines to `out`,
    the rejected answers to `rejected_out` and the stage's counts to `stats_out`."""
    indices = heldout_indices(exercises, count, seed)
    with tempfile.TemporaryDirectory() as tmp:
        valid_path = Path(tmp) / "valid.parquet"
        stats = generate_exercises(0, exercises, seed, teacher, batch, str(valid_path), rejected_out,
                                   str(Path(tmp) / "stats.json"), indices=indices, stage="heldout")
        rows = read_parquet(valid_path).to_pylist()
    problems = [problem for problem in map(exercise_problem, rows) if problem is not None]
    if not problems:
        raise ValueError(f"no held-out problem out of {count}: every answer was rejected ({stats['rejected']})")
    with atomic_path(out) as tmp_out, open(tmp_out, "w", encoding="utf-8") as f:
        for problem in problems:
            f.write(json.dumps(problem, ensure_ascii=False) + "\n")
    summary = {"benchmark": BENCHMARK, "problems": len(problems), "first_index": indices.start,
               "requested": len(indices), "valid": stats["valid"], "rejected": stats["rejected"],
               "untestable": len(rows) - len(problems),
               "examples_per_problem": dict(sorted(Counter(p["test"].count("\n    ") for p in problems).items())),
               **{k: stats[k] for k in ("model", "teacher", "template_version", "requests", "requests_cached",
                                        "prompt_tokens", "completion_tokens", "cost_usd", "seconds")}}
    write_json(stats_out, summary)
    log.info("held-out benchmark: %d problems from %d requested (%s rejected, %d untestable)",
             len(problems), len(indices), stats["rejected_total"], summary["untestable"])
    return summary
