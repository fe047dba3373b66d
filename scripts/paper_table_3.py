"""Rule paper_table_3: the model and its retrainings on pruned exercises, on HumanEval's similar and other problems."""

from phi1repro.paper.tables import write_table_3
from phi1repro.workflow import run_step

run_step(snakemake, write_table_3, report=snakemake.input.report, base=snakemake.params.base,
         base_problems=snakemake.input.base, retrained=dict(zip(snakemake.params.taus, snakemake.input.retrained)),
         scale=snakemake.params.scale, **snakemake.output)
