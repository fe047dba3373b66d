"""Rule evaluate_selfcheck: every reference solution passes, every known-wrong completion fails."""

from phi1repro.evaluate.plus import PlusLimits
from phi1repro.evaluate.score import self_check_file
from phi1repro.sandbox import Limits
from phi1repro.workflow import run_step

execution = snakemake.params.execution
run_step(snakemake, self_check_file, problems=snakemake.input.problems, benchmark=snakemake.wildcards.benchmark,
         out=snakemake.output[0], limits=Limits(timeout_s=execution["timeout_s"], memory_mb=execution["memory_mb"]),
         workers=snakemake.threads, prompt=snakemake.params.prompt,
         max_reference_failures=snakemake.params.max_reference_failures, expected=snakemake.input.get("expected"),
         plus_limits=PlusLimits(**snakemake.params.plus))
