"""Rule evaluate_expected: HumanEval+ or MBPP+'s canonical solutions run on every input in the sandbox, their outputs kept."""

from phi1repro.evaluate.expected import expected_outputs_file
from phi1repro.evaluate.plus import PlusLimits
from phi1repro.workflow import run_step

run_step(snakemake, expected_outputs_file, problems=snakemake.input.problems, benchmark=snakemake.wildcards.benchmark,
         out=snakemake.output.expected, stats_out=snakemake.output.stats, limits=PlusLimits(memory_mb=snakemake.params.memory_mb),
         workers=snakemake.threads)
