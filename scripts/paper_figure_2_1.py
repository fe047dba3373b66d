"""Rule paper_figure_2_1: HumanEval pass@1 by training data, model size and tokens seen, beside the paper's."""

from phi1repro.paper.figures import figure_2_1
from phi1repro.workflow import run_step

run_step(snakemake, figure_2_1, groups=snakemake.params.groups, models=snakemake.params.models,
         scale=snakemake.params.scale, png=snakemake.output.png, pdf=snakemake.output.pdf, data_out=snakemake.output.data)
