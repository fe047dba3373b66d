"""Rule synth_stats: the synthetic stage's totals over all parts."""

from phi1repro.synth.generate import summarise_parts
from phi1repro.workflow import run_step

run_step(snakemake, summarise_parts, textbooks=list(snakemake.input.textbooks),
         exercises=list(snakemake.input.exercises), out=snakemake.output[0])
