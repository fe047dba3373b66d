"""Rule decontam_match: one file of training data against the benchmarks, as a match table."""

import torch

from phi1repro.decontam.match import match_file
from phi1repro.workflow import run_step

torch.set_num_threads(snakemake.threads)
run_step(snakemake, match_file, data=snakemake.input.data, benchmarks=list(snakemake.input.benchmarks),
         dataset=snakemake.wildcards.dataset, kind=snakemake.params.kind, settings=snakemake.params.settings,
         embedder=snakemake.params.embedder, out=snakemake.output.matches, stats_out=snakemake.output.stats,
         workers=snakemake.threads)
