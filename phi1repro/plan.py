"""What a run would do, and why, as a compact table: `python -m phi1repro.plan [snakemake arguments]`.

Runs `snakemake --dry-run` with the given arguments (targets, --configfile, --profile ...) and groups
the planned jobs by rule and reason:

    rule                jobs  reason
    quality_threshold      1  params changed
    quality_filter         4  input from quality_threshold
    ...

Reasons are Snakemake's, shortened; "input from X" names the planned rules whose outputs a job reads.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field

JOB_HEADER = re.compile(r"^(?:local)?(?:rule|checkpoint) (\w+):$")
FIELD = re.compile(r"^\s+(\w+): (.*)$")
CODE_PARAM = re.compile(r"'code:[0-9a-f]{64}'")
SHORT = {
    "Forced execution": "forced",
    "Missing output files": "missing output",
    "Incomplete output files": "incomplete output",
    "Updated input files": "input changed",
    "Set of input files has changed since last execution": "set of inputs changed",
    "Code has changed since last execution": "code changed",
    "Params have changed since last execution": "params changed",
    "Software environment definition has changed since last execution": "software environment changed",
}


@dataclass
class Job:
    rule: str
    fields: dict[str, str] = field(default_factory=dict)

    def files(self, key: str) -> list[str]:
        value = self.fields.get(key, "")
        return [f.strip() for f in value.split(",") if f.strip()]


class PlanError(RuntimeError):
    pass


def parse_dry_run(output: str) -> list[Job]:
    """The jobs of a `snakemake --dry-run` output, with their fields (input, output, reason ...)."""
    jobs: list[Job] = []
    for line in output.splitlines():
        if header := JOB_HEADER.match(line):
            jobs.append(Job(header[1]))
        elif jobs and (item := FIELD.match(line)):
            jobs[-1].fields.setdefault(item[1], item[2])
    return jobs


def short_reason(job: Job, producers: dict[str, str]) -> str:
    """Snakemake's reason of `job`, each part shortened; inputs from other jobs become the rules that make them."""
    parts = []
    reasons = job.fields.get("reason", "").split("; ")
    missing = any(part.startswith("Missing output files") for part in reasons)
    for part in reasons:
        head = part.split(":", 1)[0]
        if head == "Input files updated by another job":
            if missing:  # a job that never ran: where its input comes from says nothing more
                continue
            rules = sorted({producers.get(f.strip(), "?") for f in part.split(":", 1)[1].split(",")})
            parts.append("input from " + ", ".join(rules))
        elif head == "Params have changed since last execution":
            parts.append(params_change(part))
        elif part:
            parts.append(SHORT.get(head, part))
    return "; ".join(dict.fromkeys(parts))  # Snakemake and our code param may both say "code changed"


def params_change(reason: str) -> str:
    """'code changed' where only the `code` param (the digest of the rule's script and modules) differs."""
    values = reason.split("across all output:", 1)[-1]
    others = CODE_PARAM.sub("", values)
    if others == values:
        return "params changed"
    return "code changed" if not re.sub(r"before:|now:|<nothing exclusive>|[\s,]", "", others) else "params and code changed"


def plan_table(jobs: list[Job]) -> str:
    """One row per (rule, reason), in the order the dry run lists them, with a total."""
    producers = {f: job.rule for job in jobs for f in job.files("output")}
    rows = Counter((job.rule, short_reason(job, producers)) for job in jobs)
    width = max([len("total"), *(len(rule) for rule, _ in rows)])
    lines = [f"{'rule':<{width}}  {'jobs':>5}  reason"]
    lines += [f"{rule:<{width}}  {count:>5}  {reason}" for (rule, reason), count in rows.items()]
    lines.append(f"{'total':<{width}}  {len(jobs):>5}")
    return "\n".join(lines)


def dry_run(arguments: list[str]) -> list[Job]:
    """The jobs Snakemake plans for `arguments`; raises PlanError with Snakemake's output if it fails."""
    run = subprocess.run([sys.executable, "-m", "snakemake", "--dry-run", *arguments], capture_output=True, text=True)
    output = run.stdout + run.stderr
    if run.returncode != 0:
        raise PlanError(f"snakemake --dry-run {' '.join(arguments)} failed:\n{output}")
    return parse_dry_run(output)


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    try:
        jobs = dry_run(arguments)
    except PlanError as e:
        print(e, file=sys.stderr)
        return 1
    print(plan_table(jobs) if jobs else "Nothing to be done: every output is up to date.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
