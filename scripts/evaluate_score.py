"""Rule evaluate_score: execute one model's samples in the sandbox; pass@k with its interval and provenance."""

from phi1repro.evaluate.plus import PlusLimits
from phi1repro.evaluate.score import score_file
from phi1repro.sandbox import Limits
from phi1repro.workflow import run_step

execution = snakemake.params.execution
run_step(snakemake, score_file, samples=snakemake.input.samples, problems=snakemake.input.problems,
         benchmark=snakemake.wildcards.benchmark, out=snakemake.output.result, problems_out=snakemake.output.problems,
         ks=snakemake.params.k, limits=Limits(timeout_s=execution["timeout_s"], memory_mb=execution["memory_mb"]),
         workers=snakemake.threads, prompt=snakemake.params.prompt, generation=snakemake.input.generation,
         self_check_report=snakemake.input.self_check, expected=snakemake.input.get("expected"),
         plus_limits=PlusLimits(**snakemake.params.plus))
