"""Rule paper_table_1: our models' size, tokens seen, HumanEval and MBPP pass@1, above the paper's rows."""

from phi1repro.paper.tables import write_table_1
from phi1repro.workflow import run_step

run_step(snakemake, write_table_1, models=snakemake.params.models, scale=snakemake.params.scale, **snakemake.output)
