"""Benchmark the dry run at paper scale: how long `snakemake -n results/phi1/humaneval.json` takes
with the paper config (config.yaml) over --shards corpus files and --parts synthetic parts.

The corpus files are empty placeholders in a temporary directory (a dry run reads no data, only
names and modification times); the paper config is used as it is, with the synthetic parts raised
to --parts. Each dry run is a fresh `snakemake` process, as a user runs it; the fastest of
--repeats is reported with the number of jobs planned, and the same for `python -m phi1repro.plan`.

With --slurm-profile (a running cluster's profile, e.g. the one tests/test_slurm.py writes), it also
measures the time from `snakemake --profile` starting to the first job RUNNING in squeue, on the
demo's first job (preparing HumanEval).

    .venv/bin/python benchmarks/dryrun.py [--shards 1000] [--parts 500] [--slurm-profile DIR]
                                          [--out results/speed/dryrun.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def paper_scale_workdir(directory: Path, shards: int, parts: int) -> Path:
    """A working directory with the paper config's inputs as placeholders; the config's path."""
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    stack = directory / "data/the-stack-dedup/data/python"
    stack.mkdir(parents=True)
    for i in range(shards):
        (stack / f"data-{i:05d}.parquet").touch()
    posts = directory / "data/stackexchange/stackoverflow.com"
    posts.mkdir(parents=True)
    (posts / "Posts.xml").touch()
    (directory / "data/mbpp").mkdir(parents=True)
    (directory / "data/mbpp/mbpp.jsonl").touch()
    for dataset in ("textbooks", "exercises"):
        config["synth"][dataset]["parts"] = parts
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def timed(command: list[str], cwd: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return seconds, done.stdout + done.stderr


def first_job_running(profile: Path, workdir: Path) -> dict:
    """Seconds from starting `snakemake --profile` to the first RUNNING job in squeue, and to the end."""
    command = [sys.executable, "-m", "snakemake", "results/benchmarks/humaneval.jsonl", "-s", str(REPO / "Snakefile"),
               "-d", str(workdir), "--profile", str(profile), "--configfile", str(REPO / "configs/demo.yaml")]
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    running = None
    while process.poll() is None:
        states = subprocess.run(["squeue", "-h", "-o", "%T"], capture_output=True, text=True).stdout.split()
        if running is None and "RUNNING" in states:
            running = time.perf_counter() - started
        time.sleep(0.05)
    if process.returncode != 0:
        sys.exit(f"{' '.join(command)} failed")
    return {"first_job_running_s": running and round(running, 2), "done_s": round(time.perf_counter() - started, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shards", type=int, default=1000)
    parser.add_argument("--parts", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--target", default="results/phi1/humaneval.json")
    parser.add_argument("--slurm-profile", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=REPO / "results/speed/dryrun.json")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        config = paper_scale_workdir(workdir, args.shards, args.parts)
        common = ["-s", str(REPO / "Snakefile"), "-d", str(workdir), args.target, "--configfile", str(config)]
        commands = {
            "snakemake --dry-run": [sys.executable, "-m", "snakemake", "--dry-run", "--quiet", "rules", *common],
            "python -m phi1repro.plan": [sys.executable, "-m", "phi1repro.plan", *common],
        }
        results = {}
        for name, command in commands.items():
            runs = [timed(command, workdir) for _ in range(args.repeats)]
            seconds = min(s for s, _ in runs)
            jobs = re.search(r"^total\s+(\d+)", runs[0][1], re.M)
            results[name] = {"seconds": round(seconds, 2), "all_seconds": [round(s, 2) for s, _ in runs],
                             "jobs": int(jobs[1]) if jobs else None}
            print(f"{name}: {seconds:.1f} s, {results[name]['jobs']} jobs", file=sys.stderr)
        if args.slurm_profile:
            with tempfile.TemporaryDirectory() as slurm_workdir:
                results["slurm, submission to first running job"] = first_job_running(args.slurm_profile,
                                                                                     Path(slurm_workdir))

    report = {"shards": args.shards, "parts": args.parts, "target": args.target, "results": results,
              "cpus": os.cpu_count(), "python": platform.python_version()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
