"""Benchmark the synthetic stage: can exercise validation keep pace with generation?

Measured, each with a fresh teacher cache in a temporary directory:

1. validation: ExerciseValidator (the sandbox, --workers zygotes) over --exercises answers of
   the offline teacher's exercise generator, all sound ("clean"), and with its deliberate flaws
   at FLAW_RATE ("as generated": each infinite loop costs a timeout of --timeout-s);
2. generation: Teacher.run of as many exercise prompts against the offline teacher in its own
   process with --latency-ms per answer, at concurrency 64, no validation;
3. a whole exercise part (generate_exercises: generation with each round validated while the
   next is generated) of the same size, and a textbook part of --textbook-tokens tokens, as
   parts/minute.

Validation keeps pace when (1, as generated) is at least (2), and then (3) runs at the rate of
(2). Everything shares the machine's cores: the server, the client and the sandbox. It reports
numbers; it checks nothing. Run from the repository root:

    .venv/bin/python benchmarks/synth.py [--exercises N] [--out PATH]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import tempfile
import time
from pathlib import Path

from phi1repro.io import write_json
from phi1repro.sandbox import Limits
from phi1repro.synth import vocabulary
from phi1repro.synth.generate import exercise_prompts, exercise_request, generate_exercises, generate_textbooks
from phi1repro.synth.validate import ExerciseValidator
from phi1repro.teacher.client import Teacher, TeacherConfig
from phi1repro.offline_teacher.exercises import draw_flaw, write_exercise
from teacher import offline_server  # benchmarks/teacher.py, beside this script

CONCURRENCY = 64


def exercise_config(count: int, workers: int, timeout_s: float) -> dict:
    return {"parts": 1, "count": count, "model": "bench", "temperature": 1.0, "max_tokens": 1024, "round_size": 512,
            "verbs": list(vocabulary.VERBS), "modifiers": list(vocabulary.MODIFIERS),
            "nouns": list(vocabulary.NOUNS), "max_modifiers": 1, "domains": list(vocabulary.DOMAINS),
            "validation": {"workers": workers, "timeout_s": timeout_s, "memory_mb": 1024}}


def validation_rate(cfg: dict, flawed: bool) -> dict:
    """Exercises/s of ExerciseValidator over offline-teacher answers to the config's prompts."""
    prompts = exercise_prompts(cfg, seed=0)
    items = []
    for i in range(cfg["count"]):
        rng = random.Random(i)
        flaw = draw_flaw(rng) if flawed else None
        items.append((prompts[i].name, write_exercise(prompts[i].name, prompts[i].domain, rng, flaw)))
    limits = Limits(timeout_s=cfg["validation"]["timeout_s"])
    with ExerciseValidator(cfg["validation"]["workers"], limits) as validator:
        start = time.perf_counter()
        verdicts = validator.validate(items)
        seconds = time.perf_counter() - start
    return {"exercises": len(items), "valid": sum(v.valid for v in verdicts), "seconds": round(seconds, 2),
            "per_s": round(len(items) / seconds, 1)}


def teacher_config(base_url: str, tmp: Path, name: str) -> TeacherConfig:
    return TeacherConfig(base_url=base_url, cache_path=str(tmp / f"{name}.sqlite"), max_concurrency=CONCURRENCY)


def generation_rate(cfg: dict, base_url: str, tmp: Path) -> dict:
    prompts = exercise_prompts(cfg, seed=0)
    requests = [exercise_request(prompts, i, cfg) for i in range(cfg["count"])]
    with Teacher(teacher_config(base_url, tmp, "generation"), stage="bench") as client:
        start = time.perf_counter()
        results = client.run(requests)
        seconds = time.perf_counter() - start
    return {"exercises": len(results), "answered": sum(bool(r.texts) for r in results),
            "seconds": round(seconds, 2), "per_s": round(len(results) / seconds, 1)}


def exercise_part_rate(cfg: dict, base_url: str, tmp: Path) -> dict:
    start = time.perf_counter()
    stats = generate_exercises(0, cfg, 0, teacher_config(base_url, tmp, "part"), False, str(tmp / "e.parquet"),
                               str(tmp / "e.rejected.parquet"), str(tmp / "e.json"))
    seconds = time.perf_counter() - start
    return {"exercises": stats["requested"], "valid": stats["valid"], "seconds": round(seconds, 2),
            "per_s": round(stats["requested"] / seconds, 1), "parts_per_minute": round(60 / seconds, 2)}


def textbook_part_rate(tokens: int, base_url: str, tmp: Path) -> dict:
    cfg = {"parts": 1, "tokens": tokens, "model": "bench", "temperature": 1.0, "max_tokens": 2048,
           "round_size": 512, "topics": list(vocabulary.TOPICS), "audiences": list(vocabulary.AUDIENCES),
           "styles": list(vocabulary.STYLES)}
    start = time.perf_counter()
    stats = generate_textbooks(0, cfg, 0, teacher_config(base_url, tmp, "textbooks"), False,
                               str(tmp / "t.parquet"), str(tmp / "t.json"))
    seconds = time.perf_counter() - start
    return {"sections": stats["rows"], "tokens": stats["tokens"], "requests": stats["requests"],
            "seconds": round(seconds, 2), "sections_per_s": round(stats["rows"] / seconds, 1),
            "parts_per_minute": round(60 / seconds, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--exercises", type=int, default=4000, help="per measurement (and the exercise part's size)")
    parser.add_argument("--workers", type=int, default=2, help="sandbox zygotes")
    parser.add_argument("--timeout-s", type=float, default=0.5, help="validation wall time per exercise")
    parser.add_argument("--latency-ms", type=float, default=200.0, help="the offline teacher's, per answer")
    parser.add_argument("--textbook-tokens", type=int, default=400_000, help="the textbook part's target")
    parser.add_argument("--out", default="results/speed/synth.json")
    args = parser.parse_args()

    cfg = exercise_config(args.exercises, args.workers, args.timeout_s)
    report = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
              "settings": {k: v for k, v in vars(args).items() if k != "out"}, "concurrency": CONCURRENCY}
    report["validation_clean"] = validation_rate(cfg, flawed=False)
    print("validation, sound exercises:", report["validation_clean"], flush=True)
    report["validation_as_generated"] = validation_rate(cfg, flawed=True)
    print("validation, with the generator's flaws:", report["validation_as_generated"], flush=True)
    with offline_server(args.latency_ms) as base_url, tempfile.TemporaryDirectory() as tmp:
        report["generation"] = generation_rate(cfg, base_url, Path(tmp))
        print("generation:", report["generation"], flush=True)
        report["exercise_part"] = exercise_part_rate(cfg, base_url, Path(tmp))
        print("exercise part:", report["exercise_part"], flush=True)
        report["textbook_part"] = textbook_part_rate(args.textbook_tokens, base_url, Path(tmp))
        print("textbook part:", report["textbook_part"], flush=True)
    report["validation_over_generation"] = round(
        report["validation_as_generated"]["per_s"] / report["generation"]["per_s"], 2)
    report["part_over_generation"] = round(report["exercise_part"]["per_s"] / report["generation"]["per_s"], 2)
    print(f"validation / generation: {report['validation_over_generation']}x; "
          f"exercise part / generation alone: {report['part_over_generation']}x")
    write_json(args.out, report)


if __name__ == "__main__":
    main()
