"""HumanEval+ and MBPP+ (EvalPlus): a completion is judged by its outputs on the benchmark's inputs.

    tasks = load_plus_tasks("HumanEvalPlus.jsonl.gz", "humanevalplus")
    expected = expected_outputs(tasks, path, PlusLimits(), workers=2, cache="expected.json.gz")  # expected.py
    checks = tasks["HumanEval/0"].with_expected(expected["HumanEval/0"]).checks(completion)  # {"base": Judged, "plus": Judged}

Each problem has `base` inputs (the original benchmark's) and `plus` inputs (EvalPlus's extra
ones). The expected output of an input is the canonical solution's, computed once per file in the
sandbox like any program (expected.py: the judge records what it returns and how long it took). A
completion passes a part when its output on every input of the part passes `plus_judge.py`'s
comparison, each input within max(min_time_limit_s, time_limit_factor x the reference's time on it).
A sample counts for "base" when it passes base, for "plus" (the benchmark's score, EvalPlus's
"base + extra tests") when it passes both. Each part runs as its own program, as EvalPlus runs them.

Prompts: HumanEval+ is HumanEval's format. MBPP+'s own prompt (`harness`, the text and first test
in a module docstring, EvalPlus's) or, the default as for MBPP, `docstring`: the canonical
solution's signature and a docstring holding the text and first test.

MBPP+ stores some inputs as JSON lists where the functions take tuples, sets or complex numbers;
`mbpp_arguments` turns them back as EvalPlus does (by task number), so both judge the same calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from ..benchmark_files import read_records
from ..errors import InputError
from ..programs import Judged, Limits

PLUS_BENCHMARKS = {"humanevalplus": "humaneval", "mbppplus": "mbpp"}  # -> the dataset of its special cases
PARTS = ("base", "plus")
JUDGE_CODE = (Path(__file__).with_name("plus_judge.py")).read_text()
# MBPP+ tasks whose outputs are re.Match objects: EvalPlus keeps whether each is None.
NOT_NONE = ("check_str", "text_match_three", "text_starta_endb")
REFERENCE_INPUT_TIMEOUT_S = 60.0  # for the canonical solution on one input, while computing expected outputs
REFERENCE_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class PlusLimits:
    """EvalPlus's limits: an input's time limit is max(min_time_limit_s, time_limit_factor x the
    reference's time on it); a part's program has min(max_part_s, the sum of its inputs' limits)
    + 1 s in all, and `memory_mb` of address space (the canonical solutions need more than 1 GB)."""

    min_time_limit_s: float = 1.0
    time_limit_factor: float = 4.0
    max_part_s: float = 60.0
    memory_mb: int = 4096

    def per_input(self, reference_seconds: list[float]) -> list[float]:
        return [max(self.min_time_limit_s, self.time_limit_factor * t) for t in reference_seconds]

    def per_part(self, input_limits: list[float]) -> Limits:
        return Limits(timeout_s=min(self.max_part_s, sum(input_limits)) + 1.0, memory_mb=self.memory_mb)


@dataclass(frozen=True)
class PlusTask:
    task_id: str
    prompt: str  # what the model continues
    reference: str  # the canonical program: EvalPlus's prompt and canonical solution
    entry_point: str
    atol: float
    dataset: str  # "humaneval" or "mbpp": which special cases apply
    inputs: dict = field(repr=False)  # part -> argument lists
    expected: dict | None = field(default=None, repr=False)  # part -> {"outputs", "seconds"}
    limits: PlusLimits = PlusLimits()

    def with_expected(self, expected: dict, limits: PlusLimits = PlusLimits()) -> PlusTask:
        return replace(self, expected=expected, limits=limits)

    def checks(self, completion: str) -> dict[str, Judged]:
        return self.program_checks(self.prompt + completion)

    def reference_checks(self) -> dict[str, Judged]:
        return self.program_checks(self.reference)

    def reference_continuation(self) -> str | None:
        return self.reference.removeprefix(self.prompt) if self.reference.startswith(self.prompt) else None

    def program_checks(self, code: str) -> dict[str, Judged]:
        if self.expected is None:
            raise ValueError(f"{self.task_id}: no expected outputs (with_expected)")
        checks = {}
        for part in PARTS:
            input_limits = self.limits.per_input(self.expected[part]["seconds"])
            data = {**self._data(part, input_limits), "expected": self.expected[part]["outputs"],
                    "project": "bool_or_not_none" if self._not_none else None}
            checks[part] = Judged(code, "check_outputs()", (self.entry_point,), JUDGE_CODE, data=data,
                                  limits=self.limits.per_part(input_limits))
        return checks

    def reference_runs(self, limits: PlusLimits) -> dict[str, Judged]:
        """The canonical solution on each part's inputs, its outputs recorded."""
        return {part: Judged(self.reference, "record_outputs()", (self.entry_point,), JUDGE_CODE,
                             data={**self._data(part, [REFERENCE_INPUT_TIMEOUT_S] * len(self.inputs[part])),
                                   "project": "not_none" if self._not_none else None},
                             limits=Limits(timeout_s=REFERENCE_TIMEOUT_S, memory_mb=limits.memory_mb))
                for part in PARTS}

    @property
    def _not_none(self) -> bool:
        return self.dataset == "mbpp" and self.entry_point in NOT_NONE

    def _data(self, part: str, time_limits: list[float]) -> dict:
        return {"entry_point": self.entry_point, "dataset": self.dataset, "atol": self.atol,
                "inputs": self.inputs[part], "time_limits": time_limits}


def load_plus_tasks(path: str | Path, benchmark: str, prompt: str = "docstring") -> dict[str, PlusTask]:
    from .tasks import mbpp_docstring_prompt  # tasks imports this module

    dataset = PLUS_BENCHMARKS[benchmark]
    tasks = {}
    for lineno, record in enumerate(read_records(Path(path), str(path)), 1):
        where = f"line {lineno} (task_id {record.get('task_id')!r})"
        for name, kind in (("task_id", str), ("prompt", str), ("canonical_solution", str), ("entry_point", str),
                           ("base_input", list), ("atol", (int, float))):
            if not isinstance(record.get(name), kind):
                raise InputError(path, f"{where}: field {name!r} is missing or of the wrong type")
        plus = record.get("plus_input") or []  # Mbpp/793 has {} there: no extra inputs
        if not isinstance(plus, list):
            raise InputError(path, f"{where}: field 'plus_input' is not a list")
        inputs = {"base": record["base_input"], "plus": plus}
        if dataset == "mbpp":
            inputs = {part: mbpp_arguments(record["task_id"], values) for part, values in inputs.items()}
        if dataset == "mbpp" and prompt == "docstring":
            text, first_test = mbpp_prompt_parts(record["prompt"], f"{path}: {where}")
            model_prompt = mbpp_docstring_prompt(text, first_test, record["canonical_solution"], f"{path}: {where}")
        else:
            model_prompt = record["prompt"]
        tasks[record["task_id"]] = PlusTask(
            record["task_id"], model_prompt, record["prompt"] + record["canonical_solution"], record["entry_point"],
            float(record["atol"]), dataset, inputs)
    if not tasks:
        raise InputError(path, f"holds no {benchmark} problems")
    return tasks


def mbpp_prompt_parts(prompt: str, where: str) -> tuple[str, str]:
    """MBPP+'s prompt, '\"\"\"\\n<text>\\n<first test>\\n\"\"\"\\n', as its text and first test."""
    lines = prompt.strip().removeprefix('"""').removesuffix('"""').strip().splitlines()
    if len(lines) < 2 or not lines[-1].startswith("assert"):
        raise InputError(where, "the prompt is not a docstring of the text and a first assert")
    return "\n".join(lines[:-1]).strip(), lines[-1].strip()


def _tuples(value):
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


# MBPP+ task number -> how its stored arguments become the function's (as EvalPlus reads them).
_INNER_TUPLES = (2, 116, 132, 143, 222, 261, 273, 394, 399, 421, 424, 429, 470, 560, 579, 596, 616, 630, 726, 740,
                 744, 809)
_NESTED_TUPLES = (63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780)
_FIRST_OF_TUPLES = (75, 413, 444, 753)
_SECOND_TUPLE = (106, 750)
_FIRST_TUPLE = (250, 405, 446, 617, 720, 763, 808)
_NESTED_TUPLES_OF_TUPLES = (259, 401, 445)


def mbpp_arguments(task_id: str, inputs: list) -> list:
    n = int(task_id.rsplit("/", 1)[-1])
    if n in _INNER_TUPLES:  # each argument a tuple
        return [[tuple(a) for a in args] for args in inputs]
    if n in _NESTED_TUPLES:  # each argument a list of tuples
        return [[[tuple(x) for x in a] for a in args] for args in inputs]
    if n in _FIRST_OF_TUPLES:
        return [[[tuple(x) for x in args[0]], args[1]] for args in inputs]
    if n in _SECOND_TUPLE:
        return [[args[0], tuple(args[1])] for args in inputs]
    if n == 115:  # a list of sets, an empty one stored as {} (a dict, as EvalPlus reads it)
        return [[[set(x) if isinstance(x, list) and x else {} for x in args[0]]] for args in inputs]
    if n == 124:
        return [(float(args[0]), complex(args[1])) for args in inputs]
    if n in _FIRST_TUPLE:
        return [[tuple(args[0]), *args[1:]] for args in inputs]
    if n in _NESTED_TUPLES_OF_TUPLES:
        return [[tuple(tuple(x) for x in a) for a in args] for args in inputs]
    if n == 278:
        return [[tuple(tuple(x) if isinstance(x, list) else x for x in args[0])] for args in inputs]
    if n == 307:
        return [[tuple(args[0]), args[1], args[2]] for args in inputs]
    if n == 722:
        return [[{k: tuple(v) for k, v in args[0].items()}, *args[1:]] for args in inputs]
    if n == 252:
        return [[complex(args[0])] for args in inputs]
    if n in (580, 615, 791):  # every list a tuple, the argument list too
        return [_tuples(args) for args in inputs]
    return inputs
