"""What the sandbox (`phi1repro.sandbox`) is asked to run: a program's `Limits`, and a `Judged` program
with the tests that judge it. Plain data apart from the sandbox, so that code that only builds programs
(benchmark tasks, and so generation) does not reach it."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Per-program limits. `cpu_s` defaults to ceil(timeout_s) + 1, so that the wall time normally
    ends a busy program first; `max_processes` counts the program's own process and threads."""

    timeout_s: float = 5.0
    cpu_s: int | None = None
    memory_mb: int = 1024
    max_processes: int = 64
    max_open_files: int = 64
    max_file_bytes: int = 1 << 20
    max_output_bytes: int = 64 << 10

    def __post_init__(self) -> None:
        if self.timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, not {self.timeout_s}")
        if self.cpu_s is None:
            object.__setattr__(self, "cpu_s", math.ceil(self.timeout_s) + 1)


@dataclass(frozen=True)
class Judged:
    """A program judged by `tests` that run in a trusted process beside it (see `phi1repro.sandbox`).
    The tests call the program's `functions` by name, after `context` (trusted code they need, such
    as HumanEval's helper functions) has run beside them; `references` name objects that the end of
    the program builds and the tests pass to its functions by name.

    Tests that check outputs against data (EvalPlus's inputs and expected outputs) read `data` as
    DATA and call `call_each(function, inputs, time_limits)`: the inputs go to the program in one
    message, the results come back one by one, each within its time limit, timed by the judge. `limits` replace the sandbox's for this program, for tests whose length
    depends on their data; `record(value)` in the tests returns plain data with the verdict
    (`Outcome.results`)."""

    program: str
    tests: str
    functions: tuple[str, ...]
    context: str = ""
    references: tuple[str, ...] = ()
    data: object = None
    limits: Limits | None = None
