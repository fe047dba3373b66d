"""Table 2's second score: the teacher grades each solution for the understanding it shows.

phi-1's authors had GPT-4 grade solutions to their 50 new problems rather than only run them, since a
nearly right solution says more about a model than its pass rate does. The rubric below asks for a 0-10
grade against the reference solution; answers are parsed strictly (a grade that does not follow the format
is a parse failure, never guessed at), and every request goes through the teacher client: cached, priced,
within the budget.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections import Counter

from ..evaluate.tasks import load_tasks
from ..errors import InputError
from ..io import atomic_path, write_json
from ..teacher.client import Request, Teacher, TeacherConfig

log = logging.getLogger(__name__)

PROMPT_VERSION = "grade-v1"
GRADING_MARKER = "Grade the student's solution to the Python problem below for the understanding it shows"
PROMPT = GRADING_MARKER + """. \
Judge the code as a teacher would, not only whether it runs: a solution that follows the right idea \
but slips on an edge case shows more understanding than one that is unrelated to the task.

Problem:
```python
{problem}
```

Reference solution:
```python
{reference}
```

Student solution:
```python
{solution}
```

Rubric:
10: correct and clear; handles every case the problem states.
7-9: the right approach, with a small slip (an edge case, a boundary, a tie-break).
4-6: partly right: some of the rules are implemented, others missed or misread.
1-3: little understanding: code that runs but does not address the problem's rules.
0: empty, does not parse, or unrelated.

Answer in exactly two lines and nothing else:
grade: <an integer from 0 to 10>
reason: <one sentence>"""

GRADE_LINE = re.compile(r"^\s*grade\s*:\s*(\S+?)\s*(?:/\s*10)?\s*$", re.IGNORECASE | re.MULTILINE)
REASON_LINE = re.compile(r"^\s*reason\s*:\s*(\S.*?)\s*$", re.IGNORECASE | re.MULTILINE)


def parse_grade(text: str) -> tuple[int | None, str | None, str | None]:
    """(grade, reason, None) for an answer in the asked format, else (None, None, why it failed)."""
    grades = GRADE_LINE.findall(text)
    if len(grades) != 1:
        return None, None, "no_grade_line" if not grades else "several_grade_lines"
    if not re.fullmatch(r"10|[0-9]", grades[0]):
        return None, None, "grade_not_0_to_10"
    reason = REASON_LINE.search(text)
    if not reason:
        return None, None, "no_reason_line"
    return int(grades[0]), reason.group(1), None


def grade_samples(samples: str, problems: str, grader: dict, teacher: TeacherConfig, out: str, summary_out: str) -> dict:
    """Have the teacher grade every sample (JSON lines with task_id, sample, completion) of a benchmark in
    HumanEval format; write one grade per sample with the raw answer and its cost, and the mean."""
    start = time.perf_counter()
    tasks = load_tasks(problems, "unconventional")
    records = _read_samples(samples, tasks)
    requests = [Request(item_id=f"{r['task_id']}#{r['sample']}", model=grader["model"],
                        messages=[{"role": "user", "content": PROMPT.format(
                            problem=tasks[r["task_id"]].prompt.rstrip(), reference=tasks[r["task_id"]].reference.rstrip(),
                            solution=(tasks[r["task_id"]].prompt + r["completion"]).rstrip())}],
                        params={"temperature": grader["temperature"], "max_tokens": grader["max_tokens"]})
                for r in records]
    with Teacher(teacher, stage="grade") as client:
        log.info("pre-flight: %s", client.estimate(requests))
        results = client.run(requests)

    grades, failures = [], Counter()
    with atomic_path(out) as tmp, open(tmp, "w", encoding="utf-8") as f:
        for record, request, result in zip(records, requests, results):
            response = result.texts[0] if result.texts else None
            grade, reason, parse_error = parse_grade(response) if response is not None else (None, None, None)
            if result.error:
                failures["request_error"] += 1
            elif parse_error:
                failures[parse_error] += 1
            else:
                grades.append(grade)
            f.write(json.dumps({
                "task_id": record["task_id"], "sample": record["sample"], "grade": grade, "reason": reason,
                "parse_error": parse_error, "request_error": result.error, "response": response,
                "model": request.model, "prompt_version": PROMPT_VERSION, "request_key": result.key,
                "prompt_tokens": result.prompt_tokens, "completion_tokens": result.completion_tokens,
                "cost_usd": result.cost_usd, "cached": result.cached}, ensure_ascii=False) + "\n")
    summary = {
        "samples": len(records),
        "graded": len(grades),
        "mean_score": round(sum(grades) / len(grades), 4) if grades else None,
        "grade_distribution": {str(g): grades.count(g) for g in range(11)},
        "failures": dict(sorted(failures.items())),
        "requests_cached": sum(r.cached for r in results),
        "prompt_tokens": sum(r.prompt_tokens for r in results),
        "completion_tokens": sum(r.completion_tokens for r in results),
        "cost_usd": round(sum(r.cost_usd for r in results), 6),
        "grader": grader,
        "prompt_version": PROMPT_VERSION,
        "seconds": round(time.perf_counter() - start, 3),
    }
    write_json(summary_out, summary)
    log.info("graded %d of %d samples: mean %s; failures %s; $%.4f", len(grades), len(records),
             summary["mean_score"], summary["failures"], summary["cost_usd"])
    return summary


def _read_samples(path: str, tasks: dict) -> list[dict]:
    records = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            try:
                record = json.loads(line)
                task_id, completion, sample = record["task_id"], record["completion"], int(record.get("sample", 0))
            except (ValueError, KeyError, TypeError) as e:
                raise InputError(path, f"line {lineno}: not a sample with task_id and completion ({e})") from None
            if task_id not in tasks:
                raise InputError(path, f"line {lineno}: task_id {task_id!r} is not a problem of the benchmark")
            records.append({"task_id": task_id, "sample": sample, "completion": completion})
    return records
