"""HumanEval+ and MBPP+ judged as EvalPlus judges them (evaluate/plus.py, evaluate/plus_judge.py): a
completion's output on each input is compared in the sandbox's judge with the expected one, with
EvalPlus's tolerances and special cases, each input within its own time limit, the first failing input
stopping the part. Small tasks are written here with their expected outputs and judged in a real
sandbox; the benchmark files themselves (../shared/data/evalplus) are read where they are present."""

import gzip
import json
import os
import time
from pathlib import Path

import pytest

from tests.needs import needs
from phi1repro.errors import InputError
from phi1repro.evaluate.expected import expected_outputs, read_expected, write_expected
from phi1repro.evaluate.plus import PlusLimits, PlusTask, load_plus_tasks, mbpp_arguments, mbpp_prompt_parts
from phi1repro.evaluate.score import judge, score_samples, self_check
from phi1repro.sandbox import Judged, Limits, Sandbox
from phi1repro.sandbox.zygote import MAX_REPLY_BYTES, MAX_REPLY_ITEMS, Digest, from_plain

SHARED_EVALPLUS = Path(__file__).resolve().parents[3] / "shared/data/evalplus"
needs_evalplus = needs(SHARED_EVALPLUS.exists(), f"{SHARED_EVALPLUS} is not on this machine")
HUMANEVAL_PLUS, MBPP_PLUS = SHARED_EVALPLUS / "HumanEvalPlus.jsonl.gz", SHARED_EVALPLUS / "MbppPlus.jsonl.gz"
FAST = 0.01  # a reference time on an input: its limit is the minimum, 1 s
WORKERS = os.cpu_count() or 2


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(2, Limits(timeout_s=10.0)) as sandbox:
        yield sandbox


def plus_task(entry_point: str, base, plus=(), *, atol: float = 0.0, dataset: str = "humaneval",
              seconds: list[float] | None = None, limits: PlusLimits = PlusLimits()) -> PlusTask:
    """A task whose parts are [(arguments, expected output), ...]; the reference took `seconds` on each
    base input (FAST by default) and FAST on each plus input."""
    parts = {"base": list(base), "plus": list(plus)}
    times = {"base": seconds or [FAST] * len(parts["base"]), "plus": [FAST] * len(parts["plus"])}
    task = PlusTask("Test/0", f"def {entry_point}(*args):\n", "", entry_point, atol, dataset,
                    {part: [list(arguments) for arguments, _ in cases] for part, cases in parts.items()})
    return task.with_expected({part: {"outputs": [output for _, output in cases], "seconds": times[part]}
                               for part, cases in parts.items()}, limits)


def answering(entry_point: str, outputs: list) -> str:
    """A program whose function returns `outputs` in turn, one per call (a part calls it on its inputs in order)."""
    return f"from math import inf, nan\n\nOUTPUTS = iter({outputs!r})\n\n\ndef {entry_point}(*args):\n" \
           f"    return next(OUTPUTS)\n"


def outcomes(sandbox, task: PlusTask, code: str) -> dict:
    """Each part's outcome for the program `code`."""
    return {part: sandbox.run_one(check) for part, check in task.program_checks(code).items()}


def verdict(sandbox, task: PlusTask, code: str):
    """The outcome of the first part that fails, else plus's (as score.judge reports a sample)."""
    found = outcomes(sandbox, task, code)
    return next((outcome for outcome in found.values() if not outcome.passed), found["plus"])


def compared(sandbox, expected: list, outputs: list, atol: float = 0.0, dataset: str = "humaneval",
             entry_point: str = "f", arguments: list | None = None):
    """The verdict on a program that returns `outputs` where the reference returned `expected`."""
    arguments = arguments or [[index] for index in range(len(expected))]
    task = plus_task(entry_point, zip(arguments, expected), atol=atol, dataset=dataset)
    return verdict(sandbox, task, answering(entry_point, outputs))


def assert_fails_at(outcome, index: int) -> None:
    assert outcome.status == "assertion_failed" and outcome.detail.startswith(f"AssertionError: input {index}: "), \
        outcome


# ---- the comparison: exact, else (where atol is set) the type, the length and numpy.allclose ----

NAN, INF = float("nan"), float("inf")
# name: (expected outputs, the program's outputs, the problem's atol, the first failing input or None)
COMPARISONS = {
    "equal values of every kind": ([1, [2, (3, "x")], {"k": {4}}, None, b"\x00"],
                                   [1, [2, (3, "x")], {"k": {4}}, None, b"\x00"], 0.0, None),
    "a different value": ([1, 2, 3], [1, 5, 3], 0.0, 1),
    "a float within 1e-6 with atol 0 (EvalPlus enforces 1e-6)": ([0.5, 1.0], [0.5, 1.0 + 5e-7], 0.0, None),
    "a float 1e-3 off with atol 0": ([0.5, 1.0], [0.5, 1.001], 0.0, 1),
    "a list of floats within 1e-6": ([[1.0, 2.0]], [[1.0 + 5e-7, 2.0]], 0.0, None),
    "a tuple of floats 1e-3 off": ([(1.0, 2.0)], [(1.0, 2.001)], 0.0, 0),
    "numpy's relative tolerance of 1e-7": ([1e9, 1e9], [1e9 + 50.0, 1e9 + 500.0], 0.0, 1),
    "within the problem's atol of 1e-4": ([1.0, 2.0], [1.00005, 2.0], 1e-4, None),
    "beyond the problem's atol of 1e-4": ([1.0, 2.0], [1.0, 2.0002], 1e-4, 1),
    "an int equal to the float": ([2.0], [2], 0.0, None),  # 2 == 2.0: an exact match
    "an int close to the float is of the wrong type": ([2.0000001], [2], 0.0, 0),
    "a tuple for a list": ([[1, 2]], [(1, 2)], 0.0, 0),
    "a tuple for a list of floats, however close": ([[1.0, 2.0]], [(1.0, 2.0)], 1e-4, 0),
    "a list of one where numpy would broadcast": ([[1.0, 1.0]], [[1.0]], 1e-4, 0),
    "a longer list": ([[1, 2]], [[1, 2, 3]], 1e-4, 0),
    "a nested list of floats, close": ([[[1.0, 2.0], [3.0, 4.0]]], [[[1.0, 2.0 + 1e-5], [3.0, 4.0]]], 1e-4, None),
    "a list of ints and floats, close, with atol 0": ([0, [1.0, 2]], [0, [1.0 + 5e-7, 2]], 0.0, 1),
    "sticky atol: after a float, the same list compares within 1e-6": ([0.5, [1.0, 2]], [0.5, [1.0 + 5e-7, 2]],
                                                                       0.0, None),
    "NaN is never close, even to NaN": ([1.0, NAN], [1.0, NAN], 0.0, 1),
    "NaN is never close, whatever the atol": ([NAN], [NAN], 1e-4, 0),
    "infinity equals itself": ([INF, -INF], [INF, -INF], 0.0, None),
    "infinity is not close to a large float": ([INF], [1e308], 1e-4, 0),
    "a string is never close": ([0.5, "a"], [0.5, "b"], 0.0, 1),
}


@pytest.mark.parametrize("expected, outputs, atol, failing", COMPARISONS.values(), ids=COMPARISONS)
def test_outputs_compare_as_evalplus_compares_them(sandbox, expected, outputs, atol, failing):
    outcome = compared(sandbox, expected, outputs, atol)
    if failing is None:
        assert (outcome.status, outcome.detail) == ("passed", ""), outcome
    else:
        assert_fails_at(outcome, failing)


def test_a_failure_shows_the_expected_and_the_actual_output(sandbox):
    outcome = compared(sandbox, [[1, 2]], [[1, 3]])
    assert outcome.status == "assertion_failed"
    assert outcome.detail == "AssertionError: input 0: expected [1, 2], got [1, 3]"


def test_a_ragged_output_is_not_close_as_numpy_finds(sandbox):
    # np.allclose([[1.0], [3.0, 4.0]], [[1.0, 1.0], [3.0, 4.0]]) raises ValueError: EvalPlus fails the input.
    assert_fails_at(compared(sandbox, [[[1.0, 1.0], [3.0, 4.0]]], [[[1.0], [3.0, 4.0]]], 1e-6), 0)


# ---- special cases, by dataset and entry point ----

ROOTS = [-6, 11, -6, 1]  # (x - 1)(x - 2)(x - 3)
# name: (dataset, entry point, arguments, expected outputs, the program's outputs, atol, first failing input or None)
SPECIAL_CASES = {
    "MBPP are_equivalent takes any output": ("mbpp", "are_equivalent", [[1, 2], [3, 4]], [True, False],
                                            ["anything", None], 0.0, None),
    "MBPP sum_div takes 0": ("mbpp", "sum_div", [[12], [8]], [16, 7], [16, 0], 0.0, None),
    "MBPP sum_div takes nothing else": ("mbpp", "sum_div", [[12], [8]], [16, 7], [16, 6], 0.0, 1),
    "sum_div is special to MBPP only": ("humaneval", "sum_div", [[8]], [7], [0], 0.0, 0),
    # the reference's 2bs + b^2 = 33, the oracle's (height perpendicular to the base) round(34.63) = 35
    "MBPP surface_Area takes the reference's value": ("mbpp", "surface_Area", [[3, 4]], [33], [33], 0.0, None),
    "MBPP surface_Area takes the oracle's value": ("mbpp", "surface_Area", [[3, 4]], [33], [35], 0.0, None),
    "MBPP surface_Area takes no other": ("mbpp", "surface_Area", [[3, 4]], [33], [34], 0.0, 0),
    # the reference zips '123' with '45' (6), the oracle pads: '123' with '045' (5)
    "MBPP digit_distance_nums takes the oracle's value": ("mbpp", "digit_distance_nums", [[123, 45]], [6], [5],
                                                         0.0, None),
    "MBPP digit_distance_nums takes no other": ("mbpp", "digit_distance_nums", [[123, 45]], [6], [7], 0.0, 0),
    "MBPP similar_elements compares as sets": ("mbpp", "similar_elements", [[[3, 4, 5], [5, 4, 7]]], [(4, 5)],
                                              [[5, 4, 4]], 0.0, None),
    "MBPP similar_elements, a missing element": ("mbpp", "similar_elements", [[[3, 4, 5], [5, 4, 7]]], [(4, 5)],
                                                [(4,)], 0.0, 0),
    "HumanEval find_zero takes another root": ("humaneval", "find_zero", [[ROOTS]] * 2, [1.0, 1.0], [3.0, 2.0],
                                               1e-4, None),
    "HumanEval find_zero takes |poly| <= atol": ("humaneval", "find_zero", [[ROOTS]], [1.0], [1.00001], 1e-4,
                                                 None),
    "HumanEval find_zero, not a root": ("humaneval", "find_zero", [[ROOTS]] * 2, [1.0, 1.0], [2.0, 1.5], 1e-4, 1),
    "HumanEval find_zero, not a number": ("humaneval", "find_zero", [[ROOTS]], [1.0], ["1.0"], 1e-4, 0),
}


@pytest.mark.parametrize("dataset, entry_point, arguments, expected, outputs, atol, failing", SPECIAL_CASES.values(),
                         ids=SPECIAL_CASES)
def test_special_cases(sandbox, dataset, entry_point, arguments, expected, outputs, atol, failing):
    outcome = compared(sandbox, expected, outputs, atol, dataset, entry_point, arguments)
    if failing is None:
        assert outcome.status == "passed", outcome
    else:
        assert_fails_at(outcome, failing)


VOWEL_START = "import re\n\n\ndef check_str(text):\n    return {}\n"
# the expected outputs of a NOT_NONE task are whether the reference's output is not None
NOT_NONE_CASES = {
    "re.Match objects, by whether they are None": ('re.search("^[aeiou]", text)', None),
    "a bool output, as itself": ('text[0] in "aeiou"', None),
    "a bool output that is wrong": ("True", 1),
    "an empty string is not None": ('re.search("^[aeiou]", text) or ""', 1),
    "None where a match is expected": ("None", 0),
}


@pytest.mark.parametrize("body, failing", NOT_NONE_CASES.values(), ids=NOT_NONE_CASES)
def test_mbpp_tasks_with_match_outputs_compare_whether_they_are_none(sandbox, body, failing):
    task = plus_task("check_str", [(["apple"], True), (["banana"], False)], dataset="mbpp")
    outcome = verdict(sandbox, task, VOWEL_START.format(body))
    if failing is None:
        assert outcome.status == "passed", outcome
    else:
        assert_fails_at(outcome, failing)


def test_a_match_output_is_not_data_outside_those_tasks(sandbox):
    task = plus_task("check_str", [(["apple"], True)], dataset="humaneval")
    outcome = verdict(sandbox, task, VOWEL_START.format('re.search("^[aeiou]", text)'))
    assert outcome.status == "unserialisable_result" and "re.Match" in outcome.detail, outcome


# ---- parts: base and plus are judged apart ----

def test_base_and_plus_are_judged_as_separate_programs(sandbox):
    task = plus_task("f", [([1], 2), ([2], 3)], [([10], 11), ([-1], 0)])
    found = outcomes(sandbox, task, "def f(x):\n    return x + 1 if x < 5 else x\n")
    assert found["base"].status == "passed"
    assert_fails_at(found["plus"], 0)


def test_score_samples_reports_base_and_plus():
    task = plus_task("f", [([1], 2)], [([10], 11)])
    samples = [{"task_id": "Test/0", "sample": 0, "completion": "    return args[0] + 1\n"},
               {"task_id": "Test/0", "sample": 1, "completion": "    return 2\n"},
               {"task_id": "Test/0", "sample": 2, "completion": "    return None\n"}]
    result, problems = score_samples({"Test/0": task}, samples, workers=2)
    assert [s["base"]["status"] for s in problems[0]["samples"]] == ["passed", "passed", "assertion_failed"]
    assert [s["status"] for s in problems[0]["samples"]] == ["passed", "assertion_failed", "assertion_failed"]
    scores = result["base"]["pass@1"], result["plus"]["pass@1"], result["pass@1"]
    assert scores == pytest.approx((2 / 3, 1 / 3, 1 / 3))


# ---- per-input time limits: max(min_time_limit_s, time_limit_factor x the reference's time) ----

SLEEPS = "import time\n\n\ndef f(seconds):\n    time.sleep(seconds)\n    return seconds\n"


def test_limits_per_input_and_per_part():
    limits = PlusLimits(min_time_limit_s=1.0, time_limit_factor=4.0, max_part_s=60.0)
    assert limits.per_input([0.01, 0.5, 2.0]) == [1.0, 2.0, 8.0]
    assert limits.per_part([1.0, 2.0, 8.0]) == Limits(timeout_s=12.0, memory_mb=4096)
    assert limits.per_part([50.0, 50.0]).timeout_s == 61.0
    task = plus_task("f", [([0], 0), ([1.5], 1.5)], seconds=[FAST, 0.5])
    assert task.program_checks(SLEEPS)["base"].limits.timeout_s == 4.0  # 1 + 2, and a second


@pytest.mark.parametrize("reference_seconds, status", [(0.5, "passed"), (0.1, "timeout")])
def test_an_input_is_allowed_factor_times_the_reference_time_and_at_least_the_minimum(sandbox, reference_seconds,
                                                                                        status):
    # 1.5 s on input 1: within max(1, 4 x 0.5) = 2 s; beyond max(1, 4 x 0.1) = 1 s
    task = plus_task("f", [([0], 0), ([1.5], 1.5), ([0], 0)], seconds=[FAST, reference_seconds, FAST])
    outcome = verdict(sandbox, task, SLEEPS)
    assert outcome.status == status, outcome
    if status == "timeout":
        assert outcome.detail == "input 1: no result within its time limit of 1 s"
        assert outcome.seconds < 1.5


def test_a_cpu_bound_input_over_its_limit_fails_even_when_rerun():
    task = plus_task("f", [([0], 0), ([1.2], 1.2)])  # 1.2 s of CPU time where 1 s is allowed
    busy = "import time\n\n\ndef f(seconds):\n    end = time.process_time() + seconds\n" \
           "    while time.process_time() < end:\n        pass\n    return seconds\n"
    [judged], _ = judge([task.program_checks(busy)], Limits(), 1)
    assert judged["base"]["status"] == "timeout", judged


# ---- a failing input: an exception, an exit; the first failure ends the part ----

FAILING_ON_ONE = {
    "an exception": ("    if x == 1:\n        raise ValueError(f'bad input {x}')\n", "exception",
                     "input 1: ValueError: bad input 1"),
    "os._exit": ("    if x == 1:\n        os._exit(3)\n", "exited_early", "exit status 3"),
    "sys.exit": ("    if x == 1:\n        sys.exit(3)\n", "exited_early", "input 1: SystemExit: 3"),
    "a wrong output, then an input that never returns": (
        "    if x == 1:\n        return -1\n    if x == 2:\n        while True:\n            pass\n",
        "assertion_failed", "AssertionError: input 1: expected 1, got -1"),
    "an exception, then an input that never returns": (
        "    if x == 1:\n        raise KeyError(x)\n    if x == 2:\n        time.sleep(3600)\n", "exception",
        "input 1: KeyError: 1"),
}


@pytest.mark.parametrize("failure, status, detail", FAILING_ON_ONE.values(), ids=FAILING_ON_ONE)
def test_the_first_failing_input_decides_the_part_at_once(sandbox, failure, status, detail):
    task = plus_task("f", [([x], x) for x in range(4)])
    outcome = verdict(sandbox, task, f"import os, sys, time\n\n\ndef f(x):\n{failure}    return x\n")
    assert (outcome.status, outcome.detail) == (status, detail), outcome
    assert outcome.seconds < 1.0  # not the 1 s limit of input 2, nor the part's 5 s


# ---- the batch: a part's inputs go to the program in one message, each result timed by the judge ----

COUNTING = """\
print("loaded")
calls = 0


def f(x):
    global calls
    calls += 1
    if x == LAST:
        print(calls, "calls")
    return x + 1
"""


def test_many_inputs_are_judged_in_one_run_of_the_program(sandbox):
    count = 20_000
    task = plus_task("f", [([x], x + 1) for x in range(count)])
    start = time.monotonic()
    outcome = outcomes(sandbox, task, f"LAST = {count - 1}\n" + COUNTING)["base"]
    assert (outcome.status, outcome.stdout) == ("passed", f"loaded\n{count} calls\n"), outcome
    assert time.monotonic() - start < 10.0


def judged_by(tests: str, program: str, data=None, timeout_s: float = 5.0):
    """A hand-written Judged of the function `f`."""
    return Judged(program, tests, ("f",), data=data, limits=Limits(timeout_s=timeout_s))


def test_call_each_yields_each_result_and_its_time_and_record_returns_them(sandbox):
    tests = "for output, seconds in call_each('f', DATA, [1.0] * len(DATA)):\n    record([output, seconds])\n"
    program = "import time\n\n\ndef f(x):\n    time.sleep(x)\n    return {'slept': (x,)}\n"
    outcome = sandbox.run_one(judged_by(tests, program, data=[[0.0], [0.3], [0.0]]))
    assert outcome.status == "passed", outcome
    results = from_plain(outcome.results)  # recorded as plain data
    assert [output for output, _ in results] == [{"slept": (0.0,)}, {"slept": (0.3,)}, {"slept": (0.0,)}]
    seconds = [s for _, s in results]
    assert 0.3 <= seconds[1] < 0.9 and seconds[0] < 0.25 and seconds[2] < 0.25, seconds


def test_the_program_answers_every_input_without_waiting_for_the_judge(sandbox):
    # The judge takes the first result, then waits; the program has called f on every input meanwhile.
    tests = """\
import time
results = call_each("f", [[0], [1], [2]], [1.0] * 3)
next(results)
received = time.monotonic()
time.sleep(1.0)
record([received, [output for output, _ in results]])
"""
    program = "import time\n\n\ndef f(x):\n    print(time.monotonic())\n    return x\n"
    outcome = sandbox.run_one(judged_by(tests, program))
    assert outcome.status == "passed", outcome
    [(received, rest)] = outcome.results
    called = [float(line) for line in outcome.stdout.split()]
    assert rest == [1, 2] and len(called) == 3 and max(called) < received + 0.5, (received, called)


def test_a_call_timeout_cannot_be_caught_by_the_tests(sandbox):
    tests = "try:\n    list(call_each('f', [[5]], [0.1]))\nexcept Exception:\n    pass\n"
    outcome = sandbox.run_one(judged_by(tests, SLEEPS))
    assert (outcome.status, outcome.detail) == ("timeout", "input 0: no result within its time limit of 0.1 s")
    assert outcome.seconds < 1.0


# ---- problems files: expected outputs from the reference, cached by the file's sha256 ----

def problem(task_id: str, entry_point: str, solution: str, base: list, plus: list = (), atol: float = 0) -> dict:
    return {"task_id": task_id, "prompt": f"def {entry_point}(n):\n", "canonical_solution": solution,
            "entry_point": entry_point, "base_input": base, "plus_input": list(plus), "atol": atol}


def write_problems(path: Path, *records: dict) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(record) + "\n" for record in records)
    return path


def read_jsonl(path: Path) -> dict:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return {record["task_id"]: record for record in map(json.loads, f)}


def judged_tasks(problems: Path, cache: Path | None = None, benchmark: str = "humanevalplus",
                 workers: int = 2) -> dict:
    """The tasks of a problems file with their expected outputs (computed, or read from `cache`)."""
    tasks = load_plus_tasks(problems, benchmark)
    expected = expected_outputs(tasks, problems, PlusLimits(), workers, cache)
    return {task_id: task.with_expected(expected[task_id]) for task_id, task in tasks.items()}


BIG_LIST = "    return list(range(n))\n"  # n > MAX_REPLY_ITEMS: a result sent as its Digest
BIG_STRING = "    return 'x' * n\n"  # n > MAX_REPLY_BYTES: likewise
BIG = {"a long list": (BIG_LIST, MAX_REPLY_ITEMS + 1, "    out = list(range(n))\n    out[-1] += 1\n    return out\n"),
       "a long string": (BIG_STRING, MAX_REPLY_BYTES + 1, "    return 'x' * (n - 1) + 'y'\n")}


@pytest.mark.parametrize("solution, size, one_item_off", BIG.values(), ids=BIG)
def test_outputs_too_large_to_send_are_compared_by_digest(sandbox, tmp_path, solution, size, one_item_off):
    problems = write_problems(tmp_path / "big.jsonl.gz", problem("Big/0", "big", solution, [[size]], [[3]]))
    task = judged_tasks(problems)["Big/0"]
    assert isinstance(task.expected["base"]["outputs"][0], Digest)
    assert task.expected["plus"]["outputs"][0] in ([0, 1, 2], "xxx")  # a small output is itself
    assert all(outcome.passed for outcome in outcomes(sandbox, task, task.prompt + solution).values())
    outcome = verdict(sandbox, task, task.prompt + one_item_off)
    assert outcome.status == "assertion_failed" and outcome.detail.startswith(
        "AssertionError: input 0: expected <a value with sha256"), outcome


def test_expected_outputs_are_the_references_and_cached_by_the_problems_sha256(tmp_path):
    problems = write_problems(tmp_path / "p.jsonl.gz", problem("P/0", "double", "    return 2 * n\n", [[1], [2.5]],
                                                               [[-3]]))
    cache = tmp_path / "expected.json.gz"
    expected = judged_tasks(problems, cache)["P/0"].expected
    assert expected["base"]["outputs"] == [2, 5.0] and expected["plus"]["outputs"] == [-6]
    assert all(0 <= s < 1 for part in expected.values() for s in part["seconds"])
    stored = read_expected(cache)
    assert stored["tasks"]["P/0"]["base"]["outputs"] == [2, 5.0]

    # the cache is used while it is for this file: forged outputs are read back, not recomputed ...
    forged = {"P/0": {part: {**values, "outputs": ["forged"] * len(values["outputs"])}
                      for part, values in expected.items()}}
    write_expected(cache, stored["problems_sha256"], forged)
    assert judged_tasks(problems, cache)["P/0"].expected["base"]["outputs"] == ["forged", "forged"]
    # ... and recomputed, and rewritten, once it is for another file's sha256
    write_expected(cache, "0" * 64, forged)
    assert judged_tasks(problems, cache)["P/0"].expected["base"]["outputs"] == [2, 5.0]
    assert read_expected(cache)["problems_sha256"] == stored["problems_sha256"]


def test_a_failing_canonical_solution_is_named(tmp_path):
    problems = write_problems(tmp_path / "p.jsonl.gz", problem("P/0", "f", "    return n\n", [[1]]),
                              problem("P/1", "g", "    return 1 / n\n", [[1]], [[0]]))
    with pytest.raises(RuntimeError, match=r"failed on 1 part\(s\) of .*p\.jsonl\.gz: P/1 plus: exception "
                                           r"input 0: ZeroDivisionError"):
        judged_tasks(problems)


# ---- bad input ----

def test_a_problem_without_entry_point_is_named_with_its_file_and_line(tmp_path):
    good = problem("P/0", "f", "    return n\n", [[1]])
    bad = {key: value for key, value in problem("P/1", "g", "    return n\n", [[1]]).items() if key != "entry_point"}
    problems = write_problems(tmp_path / "p.jsonl.gz", good, bad)
    with pytest.raises(InputError, match=r"p\.jsonl\.gz: line 2 \(task_id 'P/1'\): field 'entry_point' is missing"):
        load_plus_tasks(problems, "humanevalplus")


@pytest.mark.parametrize("content", [b"not gzip", gzip.compress(b'{"problems_sha256": "x"'),
                                     gzip.compress(b"[1, 2]")], ids=["not gzip", "truncated JSON", "not an object"])
def test_a_corrupt_expected_outputs_file_is_named(tmp_path, content):
    problems = write_problems(tmp_path / "p.jsonl.gz", problem("P/0", "f", "    return n\n", [[1]]))
    cache = tmp_path / "expected.json.gz"
    cache.write_bytes(content)
    with pytest.raises(InputError, match=r"expected\.json\.gz: not an expected-outputs file"):
        judged_tasks(problems, cache)


def test_an_expected_outputs_file_of_bad_plain_data_is_named(tmp_path):
    cache = tmp_path / "expected.json.gz"
    cache.write_bytes(gzip.compress(json.dumps({"problems_sha256": "0" * 64, "tasks": {}}).encode()))
    with pytest.raises(InputError, match="not an expected-outputs file"):
        read_expected(cache)


# ---- MBPP+'s inputs, decoded as EvalPlus decodes them ----

MBPP_ARGUMENTS = {
    "Mbpp/124: a float and a complex": ("Mbpp/124", [["0", "1j"], ["1e-100", "(-0-1j)"]],
                                        [(0.0, 1j), (1e-100, -1j)]),
    "Mbpp/2: each argument a tuple": ("Mbpp/2", [[[3, 4], [5, 7]]], [[(3, 4), (5, 7)]]),
    "Mbpp/63: each argument a list of tuples": ("Mbpp/63", [[[[1, 2], [3, 4]]]], [[[(1, 2), (3, 4)]]]),
    "Mbpp/106: the second a tuple": ("Mbpp/106", [[[1], [2, 3]]], [[[1], (2, 3)]]),
    "Mbpp/115: a list of sets, {} a dict": ("Mbpp/115", [[[[1, 2], [], {}]]], [[[{1, 2}, {}, {}]]]),
    "Mbpp/252: a complex": ("Mbpp/252", [[1], ["(1+2j)"]], [[1 + 0j], [1 + 2j]]),
    "Mbpp/580: every list a tuple": ("Mbpp/580", [[[1, [2, 3]], 4]], [((1, (2, 3)), 4)]),
    "Mbpp/722: a dict of tuples": ("Mbpp/722", [[{"a": [1, 2]}, 3]], [[{"a": (1, 2)}, 3]]),
    "Mbpp/11: as stored": ("Mbpp/11", [["hello", "l"]], [["hello", "l"]]),
}


@pytest.mark.parametrize("task_id, stored, arguments", MBPP_ARGUMENTS.values(), ids=MBPP_ARGUMENTS)
def test_mbpp_arguments(task_id, stored, arguments):
    decoded = mbpp_arguments(task_id, stored)
    assert decoded == arguments
    assert repr(decoded) == repr(arguments)  # tuples stay tuples, {} a dict, 1j a complex


def test_decoded_arguments_reach_the_program_as_they_are(sandbox):
    [arguments] = mbpp_arguments("Mbpp/115", [[[[1, 2], {}]]])
    task = plus_task("f", [(arguments, ["list", "set", "dict"])], dataset="mbpp")
    program = "def f(items):\n    return [type(items).__name__] + [type(item).__name__ for item in items]\n"
    assert verdict(sandbox, task, program).status == "passed"
    [arguments] = mbpp_arguments("Mbpp/124", [["2", "(3-4j)"]])
    task = plus_task("angle", [(arguments, 5.0)], dataset="mbpp")
    assert verdict(sandbox, task, "def angle(a, z):\n    return abs(z) if type(a) is float else None\n").passed


# ---- the benchmark files ----

@needs_evalplus
def test_humanevalplus_tasks():
    records = read_jsonl(HUMANEVAL_PLUS)
    tasks = load_plus_tasks(HUMANEVAL_PLUS, "humanevalplus")
    assert len(tasks) == 164 and list(tasks) == list(records)
    for task_id, task in tasks.items():
        record = records[task_id]
        assert (task.prompt, task.reference_continuation()) == (record["prompt"], record["canonical_solution"])
        assert (task.dataset, task.atol, task.entry_point) == ("humaneval", record["atol"], record["entry_point"])
        assert task.inputs == {"base": record["base_input"], "plus": record["plus_input"]}
    assert tasks["HumanEval/32"].atol == 1e-4


@needs_evalplus
def test_mbppplus_tasks_and_their_prompts():
    records = read_jsonl(MBPP_PLUS)
    docstring, harness = (load_plus_tasks(MBPP_PLUS, "mbppplus", prompt) for prompt in ("docstring", "harness"))
    assert len(docstring) == len(harness) == 378
    assert all(task.prompt == records[task_id]["prompt"] for task_id, task in harness.items())
    assert all(task.reference == records[task_id]["prompt"] + records[task_id]["canonical_solution"]
               for task_id, task in docstring.items())
    assert docstring["Mbpp/2"].prompt == (
        'def similar_elements(test_tup1, test_tup2):\n'
        '    """Write a function to find the shared elements from the given two lists.\n'
        '    assert set(similar_elements((3, 4, 5, 6),(5, 7, 4, 10))) == set((4, 5))\n'
        '    """\n')
    for task_id, task in docstring.items():  # the signature, then the text and first test as a docstring
        text, first_test = mbpp_prompt_parts(records[task_id]["prompt"], task_id)
        assert task.prompt.startswith("def ") and task.prompt.endswith(f'{text}\n    {first_test}\n    """\n')
    assert docstring["Mbpp/2"].reference_continuation() is None
    assert docstring["Mbpp/124"].inputs["base"][0] == (0.0, 1j)
    assert docstring["Mbpp/793"].inputs["plus"] == []  # stored as {}
    assert {task.dataset for task in docstring.values()} == {"mbpp"}


@needs_evalplus
@pytest.mark.slow
@pytest.mark.parametrize("problems, benchmark, count", [(HUMANEVAL_PLUS, "humanevalplus", 164),
                                                        (MBPP_PLUS, "mbppplus", 378)], ids=["HumanEval+", "MBPP+"])
def test_every_reference_passes_and_every_known_wrong_completion_fails(tmp_path, problems, benchmark, count):
    tasks = judged_tasks(problems, tmp_path / "expected.json.gz", benchmark, WORKERS)
    report = self_check(tasks, Limits(), WORKERS)
    assert (report["references_passed"], report["known_wrong_failed"]) == (count, count), report
    assert report["references_failed"] == {} and report["known_wrong_passed"] == []
