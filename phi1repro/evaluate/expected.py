"""HumanEval+ and MBPP+'s expected outputs: the canonical solutions run on every input in the sandbox,
once per benchmark file, and kept by the file's sha256.

    expected = expected_outputs(tasks, path, PlusLimits(), workers=2, cache="expected.json.gz")
    checks = tasks["HumanEval/0"].with_expected(expected["HumanEval/0"]).checks(completion)

Apart from plus.py, which builds the tasks and their programs, so that what reads only the tasks'
prompts (generation) does not reach the sandbox.
"""

from __future__ import annotations

import gzip
import json
import os
import time
from dataclasses import asdict
from pathlib import Path

from ..errors import InputError
from ..io import atomic_path, file_sha256, write_json
from ..sandbox import Sandbox
from ..sandbox.zygote import Digest, NotPlainData, from_plain, to_plain
from .plus import PARTS, PlusLimits, PlusTask, load_plus_tasks


def expected_outputs(tasks: dict[str, PlusTask], problems: str | Path, limits: PlusLimits, workers: int,
                     cache: str | Path | None = None) -> dict:
    """task_id -> part -> {"outputs", "seconds"}: the canonical solutions' outputs and times on every
    input, read from the file `cache` when it holds them for this problems file (by its sha256),
    else computed in the sandbox and written there. RuntimeError naming the task and part where a
    canonical solution fails."""
    digest = file_sha256(problems)
    path = cache
    if path and Path(path).is_file():
        stored = read_expected(path)
        if stored["problems_sha256"] == digest and stored["tasks"].keys() == tasks.keys():
            return stored["tasks"]
    ids = list(tasks)
    runs = [(task_id, part, run) for task_id in ids for part, run in tasks[task_id].reference_runs(limits).items()]
    with Sandbox(workers) as sandbox:
        outcomes = sandbox.run([run for _, _, run in runs], desc="expected outputs")
    expected, failed = {task_id: {} for task_id in ids}, []
    for (task_id, part, _), outcome in zip(runs, outcomes):
        if not outcome.passed:
            failed.append(f"{task_id} {part}: {outcome.status} {outcome.detail}".strip())
            continue
        outputs, seconds = zip(*outcome.results) if outcome.results else ((), ())
        expected[task_id][part] = {"outputs": [from_plain(o) for o in outputs], "seconds": list(seconds)}
    if failed:
        raise RuntimeError(f"the canonical solution failed on {len(failed)} part(s) of {problems}: "
                           + "; ".join(failed[:5]))
    if path:
        write_expected(path, digest, expected)
    return expected


def expected_outputs_file(problems: str, benchmark: str, out: str, stats_out: str, limits: PlusLimits = PlusLimits(),
                          workers: int = 2) -> dict:
    """The workflow's step: a benchmark file's expected outputs into `out`, and their stats."""
    start = time.perf_counter()
    tasks = load_plus_tasks(problems, benchmark)
    expected = expected_outputs(tasks, problems, limits, workers, out)
    stats = {"benchmark": benchmark, "problems_sha256": file_sha256(problems), "problems": len(tasks),
             "seconds": round(time.perf_counter() - start, 1), "limits": asdict(limits)}
    for part in PARTS:
        outputs = [o for e in expected.values() for o in e[part]["outputs"]]
        seconds = [t for e in expected.values() for t in e[part]["seconds"]]
        stats[part] = {"inputs": len(outputs), "reference_seconds": round(sum(seconds), 3),
                       "slowest_input_s": round(max(seconds, default=0.0), 3),
                       "outputs_by_digest": sum(isinstance(o, Digest) for o in outputs)}
    write_json(stats_out, stats)
    return stats


def write_expected(path: str | Path, digest: str, expected: dict) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, gzip.open(tmp, "wt", encoding="utf-8") as f:
        json.dump({"problems_sha256": digest, "tasks": to_plain(expected)}, f)


def read_expected(path: str | Path) -> dict:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            stored = json.load(f)
        return {"problems_sha256": stored["problems_sha256"], "tasks": from_plain(stored["tasks"])}
    except (OSError, EOFError, ValueError, KeyError, TypeError, NotPlainData) as e:
        raise InputError(path, f"not an expected-outputs file ({e})") from None


def default_cache(problems: str | Path) -> Path:
    """Where the command line keeps a problems file's expected outputs: by its sha256, in the user's cache."""
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "phi1repro" / "expected"
    return root / f"{file_sha256(problems)}.json.gz"
