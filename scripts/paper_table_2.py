"""Rule paper_table_2: the 50 unconventional problems, scored by execution and graded by the teacher, per model."""

from phi1repro.paper.tables import write_table_2
from phi1repro.workflow import run_step

models = snakemake.params.models
run_step(snakemake, write_table_2, models=models, grades=dict(zip(models, snakemake.input.grades)),
         grader=snakemake.params.grader, scale=snakemake.params.scale, **snakemake.output)
