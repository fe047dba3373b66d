"""Rule decontam_prune: CodeExercises without the exercises close to a benchmark problem at one tau."""

from phi1repro.decontam.report import prune_exercises
from phi1repro.workflow import run_step

run_step(snakemake, prune_exercises, parts=list(snakemake.input.exercises), matches=list(snakemake.input.matches),
         tau=float(snakemake.wildcards.tau), measures=snakemake.params.prune["measures"],
         benchmarks=snakemake.params.prune["benchmarks"], out=snakemake.output.data, stats_out=snakemake.output.stats)
