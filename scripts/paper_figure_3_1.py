"""Rule paper_figure_3_1: the modules CodeExercises imports, from the diversity report."""

from phi1repro.paper.figures import figure_3_1
from phi1repro.workflow import run_step

run_step(snakemake, figure_3_1, diversity=snakemake.input[0], min_count=snakemake.params.min_count,
         scale=snakemake.params.scale, png=snakemake.output.png, pdf=snakemake.output.pdf)
