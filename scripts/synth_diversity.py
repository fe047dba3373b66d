"""Rule synth_diversity: the diversity and redundancy report of every synthetic dataset."""

import torch

from phi1repro.synth.diversity import report_synthetic
from phi1repro.workflow import run_step

torch.set_num_threads(snakemake.threads)
run_step(
    snakemake,
    report_synthetic,
    parts={"textbooks": list(snakemake.input.textbooks), "exercises": list(snakemake.input.exercises)},
    vocabularies=snakemake.params.vocabularies,
    embedder=snakemake.params.embedder,
    embedding_sample=snakemake.params.embedding_sample,
    seed=snakemake.params.seed,
    out=snakemake.output.report,
    plots_dir=snakemake.output.plots,
)
