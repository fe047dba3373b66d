"""Rule corpus_stats: the corpus stage's stats in one JSON (per source, dropped by reason, clusters)."""

from phi1repro.corpus.stages import summarise
from phi1repro.workflow import run_step

run_step(
    snakemake,
    summarise,
    read_stats=list(snakemake.input.read),
    cluster_stats=snakemake.input.clusters,
    dedup_stats=list(snakemake.input.dedup),
    out=snakemake.output[0],
)
