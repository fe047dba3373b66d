"""Rule annotate_sample: a seeded sample of the deduplicated corpus, stratified across shards and sources."""

from phi1repro.quality.annotate import sample_corpus
from phi1repro.workflow import run_step

run_step(
    snakemake,
    sample_corpus,
    shards=dict(zip(snakemake.params.shards, snakemake.input)),
    n=snakemake.params.sample_size,
    seed=snakemake.params.seed,
    out=snakemake.output.sample,
    stats_out=snakemake.output.stats,
)
