"""Rule corpus_clusters: duplicate clusters across all shards, and which member each keeps."""

from phi1repro.corpus.stages import cluster_shards
from phi1repro.workflow import run_step

run_step(
    snakemake,
    cluster_shards,
    signatures=list(snakemake.input),
    dedup=snakemake.params.dedup,
    out=snakemake.output.duplicates,
    stats_out=snakemake.output.stats,
)
