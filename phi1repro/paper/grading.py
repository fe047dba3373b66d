"""Table 2's second score: the teacher grades each solution for the understanding it shows.

phi-1's authors had GPT-4 grade solutions to their 50 new problems rather than only run them, since a
nearly right solution says more about a model than its pass rate does. The rubric below asks for a 0-10
grade against the reference solution, as structured output where the server has it (`grader.structured`);
answers are read by the tolerant parser in teacher/scores.py (a grade it cannot read is a parse failure
by reason, kept with its raw text, never guessed at), and every request goes through the teacher client:
cached, priced, within the budget.
"""

from __future__ import annotations

import json
import logging
import time

from ..evaluate.tasks import load_tasks
from ..errors import InputError
from ..io import atomic_path, write_json
from ..teacher.client import Request, Teacher, TeacherConfig
from ..teacher.scores import SOLUTION_GRADE
from ..teacher.scoring import answer_format, ask_scores, response_format

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

{answer_format}"""
SCALE = SOLUTION_GRADE
GRADE_HINT = "<an integer from 0 to 10>"


def grade_samples(samples: str, problems: str, grader: dict, teacher: TeacherConfig, out: str, summary_out: str) -> dict:
    """Have the teacher grade every sample (JSON lines with task_id, sample, completion) of a benchmark in
    HumanEval format; write one grade per sample with the raw answer and its cost, and the mean."""
    start = time.perf_counter()
    tasks = load_tasks(problems, "unconventional")
    records = _read_samples(samples, tasks)

    def build(mode: str) -> list[Request]:
        return [Request(item_id=f"{r['task_id']}#{r['sample']}", model=grader["model"],
                        messages=[{"role": "user", "content": PROMPT.format(
                            problem=tasks[r["task_id"]].prompt.rstrip(), reference=tasks[r["task_id"]].reference.rstrip(),
                            solution=(tasks[r["task_id"]].prompt + r["completion"]).rstrip(),
                            answer_format=answer_format(SCALE, GRADE_HINT, mode))}],
                        params={"temperature": grader["temperature"], "max_tokens": grader["max_tokens"],
                                "response_format": response_format(SCALE, mode)})
                for r in records]

    with Teacher(teacher, stage="grade") as client:
        log.info("pre-flight: %s", client.estimate(build(grader["structured"])))
        scored, counts = ask_scores(client, build, SCALE, grader["structured"], grader["repair"])
    grades = [s.parsed.score for s in scored if s.parsed.error is None and s.result.error is None]
    with atomic_path(out) as tmp, open(tmp, "w", encoding="utf-8") as f:
        for record, item in zip(records, scored):
            f.write(json.dumps({"task_id": record["task_id"], "sample": record["sample"], "grade": item.parsed.score,
                                "model": grader["model"], "prompt_version": PROMPT_VERSION, **item.row()},
                               ensure_ascii=False) + "\n")
    summary = {
        "samples": len(records),
        "graded": len(grades),
        "mean_score": round(sum(grades) / len(grades), 4) if grades else None,
        "grade_distribution": {str(g): grades.count(g) for g in range(11)},
        **counts,
        "grader": grader,
        "teacher": teacher.teacher,
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
