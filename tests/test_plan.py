"""The plan table, on a small workflow run for real: what a dry run would do, grouped, with short reasons."""

import subprocess
import sys

import pytest

from phi1repro.plan import PlanError, dry_run, plan_table

SNAKEFILE = """
rule all:
    input: expand("b{i}.txt", i=range(3))

rule a:
    output: "a{i}.txt"
    params: n=config["n"], code="code:" + config["code"]
    shell: "echo {params.n} > {output}"

rule b:
    input: "a{i}.txt"
    output: "b{i}.txt"
    shell: "cat {input} > {output}"
"""


def arguments(workdir, n=1, code="0" * 64):
    (workdir / "config.yaml").write_text(f"n: {n}\ncode: '{code}'\n")
    return ["-s", str(workdir / "Snakefile"), "-d", str(workdir), "--configfile", str(workdir / "config.yaml")]


def plan(workdir, **config):
    return plan_table(dry_run(arguments(workdir, **config)))


def test_the_table_groups_jobs_by_rule_and_reason(tmp_path):
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    assert plan(tmp_path).splitlines() == [
        "rule    jobs  reason",
        "a          3  missing output",
        "b          3  missing output",
        "all        1  input from b",
        "total      7"]
    done = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "1", *arguments(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert dry_run(arguments(tmp_path)) == []
    assert plan(tmp_path, n=2).splitlines()[1:3] == ["a          3  params changed", "b          3  input from a"]
    assert plan(tmp_path, code="1" * 64).splitlines()[1] == "a          3  code changed"
    assert plan(tmp_path, n=2, code="1" * 64).splitlines()[1] == "a          3  params and code changed"


def test_a_failing_dry_run_says_why(tmp_path):
    (tmp_path / "Snakefile").write_text("rule a:\n    output: 'x'\n    shell: 'touch {output}'\nthis is not python\n")
    with pytest.raises(PlanError, match="snakemake --dry-run .* failed:\nNameError in file .*Snakefile.*line 4"):
        dry_run(["-s", str(tmp_path / "Snakefile"), "-d", str(tmp_path)])
