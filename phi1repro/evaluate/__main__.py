"""Generate, score and self-check HumanEval / MBPP samples, as the workflow's evaluate stage does.

    python -m phi1repro.evaluate score samples.jsonl --out result.json [--benchmark mbpp --problems mbpp.jsonl]
    python -m phi1repro.evaluate generate results/checkpoints/phi1 --out samples.jsonl [--n 20 --temperature 0.8]
    python -m phi1repro.evaluate selfcheck --out selfcheck.json [--benchmark mbpp --problems mbpp.jsonl]
    python -m phi1repro.evaluate score samples.jsonl --out result.json --benchmark humanevalplus --problems HumanEvalPlus.jsonl.gz

`score` takes any human-eval-format samples file ({"task_id", "completion"} per line, from any
model or tool) and runs it through our sandbox. Problems: a prepared benchmark file, human-eval's
HumanEval.jsonl.gz, MBPP's mbpp.jsonl or EvalPlus's HumanEvalPlus.jsonl.gz / MbppPlus.jsonl.gz;
the default is the HumanEval the human-eval package ships. HumanEval+ and MBPP+ first compute the
canonical solutions' outputs once per file (a few minutes), kept by the file's sha256 in
~/.cache/phi1repro/expected/ or at --expected. Exit status 1 with a message naming the file on
bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile

from ..benchmark_files import resolve_source
from ..errors import InputError
from ..progress import setup_logging
from ..sandbox import Limits
from .plus import PLUS_BENCHMARKS, PlusLimits
from .score import score_file, self_check_file
from .tasks import BENCHMARKS, PROMPTS, default_stop, load_tasks


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m phi1repro.evaluate", description=__doc__.split("\n\n")[0])
    commands = p.add_subparsers(dest="command", required=True)
    score = commands.add_parser("score", help="execute and score a samples file")
    score.add_argument("samples")
    score.add_argument("--k", type=int, nargs="+", default=[1, 10, 100], help="pass@k to report (where n >= k)")
    score.add_argument("--problems-out", help="also write one JSON line per problem with its samples' verdicts")
    generate = commands.add_parser("generate", help="sample completions from a Hugging Face checkpoint")
    generate.add_argument("checkpoint")
    generate.add_argument("--n", type=int, default=1, help="samples per problem")
    generate.add_argument("--temperature", type=float, default=0.0, help="0: greedy")
    generate.add_argument("--top-p", type=float, default=0.95)
    generate.add_argument("--max-new-tokens", type=int, default=512)
    generate.add_argument("--batch-size", type=int, default=16)
    generate.add_argument("--stop", nargs="+", help="stop sequences (default: the harnesses' for the prompt)")
    generate.add_argument("--seed", type=int, default=0)
    check = commands.add_parser("selfcheck", help="run reference and known-wrong solutions through the executor")
    check.add_argument("--max-reference-failures", type=int, default=0)
    for sub in (score, generate, check):
        sub.add_argument("--out", required=True, help="output JSON (JSONL samples for generate)")
        sub.add_argument("--benchmark", choices=BENCHMARKS, default="humaneval")
        sub.add_argument("--problems", default="package:human_eval",
                         help="benchmark file, or package:human_eval (HumanEval only)")
        sub.add_argument("--prompt", choices=sorted({v for vs in PROMPTS.values() for v in vs}),
                         help="prompt variant (MBPP: docstring, the default, or harness)")
    for sub in (score, check):
        sub.add_argument("--workers", type=int, default=2)
        sub.add_argument("--timeout", type=float, default=Limits.timeout_s, help="wall seconds per program")
        sub.add_argument("--memory-mb", type=int, default=Limits.memory_mb)
        plus = sub.add_argument_group("HumanEval+ and MBPP+")
        plus.add_argument("--expected", help="the expected outputs' file, read or written (default: in the user's cache)")
        plus.add_argument("--min-time-limit", type=float, default=PlusLimits.min_time_limit_s,
                          help="seconds an input may take at least")
        plus.add_argument("--time-limit-factor", type=float, default=PlusLimits.time_limit_factor,
                          help="times the canonical solution's time on the input")
        plus.add_argument("--plus-memory-mb", type=int, default=PlusLimits.memory_mb)
    args = p.parse_args(argv)
    if args.benchmark in PLUS_BENCHMARKS and args.problems.startswith("package:"):
        p.error(f"--benchmark {args.benchmark} needs --problems: EvalPlus's file, e.g. "
                f"{'HumanEvalPlus' if args.benchmark == 'humanevalplus' else 'MbppPlus'}.jsonl.gz")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    log = setup_logging()
    with tempfile.TemporaryDirectory() as download_dir:
        try:
            problems = str(resolve_source(args.problems, download_dir))
            if args.command == "generate":
                from .generate import generate_samples  # torch and transformers only for this command

                tasks = load_tasks(problems, args.benchmark, args.prompt)
                result = generate_samples(
                    args.checkpoint, [{"task_id": t.task_id, "prompt": t.prompt} for t in tasks.values()], args.out,
                    n_samples=args.n, temperature=args.temperature, top_p=args.top_p,
                    max_new_tokens=args.max_new_tokens, stop=args.stop or default_stop(args.benchmark, args.prompt),
                    batch_size=args.batch_size, seed=args.seed)
            else:
                limits = Limits(timeout_s=args.timeout, memory_mb=args.memory_mb)
                plus = {"expected": args.expected, "plus_limits": PlusLimits(
                    args.min_time_limit, args.time_limit_factor, memory_mb=args.plus_memory_mb)}
                if args.command == "score":
                    result = score_file(args.samples, problems, args.benchmark, args.out, args.problems_out,
                                        args.k, limits, args.workers, args.prompt, **plus)
                else:
                    result = self_check_file(problems, args.benchmark, args.out, limits, args.workers,
                                             args.prompt, args.max_reference_failures, **plus)
        except (InputError, RuntimeError, ValueError) as e:
            log.error("%s", e)
            return 1
    print(json.dumps({k: v for k, v in result.items() if k != "provenance"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
