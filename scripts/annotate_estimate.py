"""Rule annotate_estimate: requests, tokens and dollars the labelling would cost, without calling the API."""

from phi1repro.quality.annotate import estimate_cost
from phi1repro.workflow import run_step

run_step(snakemake, estimate_cost, sample=snakemake.input[0], annotate=snakemake.params.annotate,
         teacher=snakemake.config["teacher"], out=snakemake.output[0])
