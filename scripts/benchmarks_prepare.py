"""Rule benchmarks_prepare: one benchmark, verified by its sha256 and normalised to JSON lines."""

from phi1repro.benchmark_files import prepare_benchmark
from phi1repro.workflow import run_step

run_step(snakemake, prepare_benchmark, benchmark=snakemake.wildcards.benchmark, source=snakemake.params.source,
         sha256=snakemake.params.sha256, out=snakemake.output.problems, stats_out=snakemake.output.stats)
