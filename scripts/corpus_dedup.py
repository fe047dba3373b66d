"""Rule corpus_dedup: one shard without its duplicates, as parquet, its validation records apart."""

from phi1repro.corpus.stages import dedup_shard
from phi1repro.workflow import run_step

run_step(
    snakemake,
    dedup_shard,
    raw=snakemake.input.raw,
    duplicates=snakemake.input.duplicates,
    shard=f"{snakemake.wildcards.source}-{snakemake.wildcards.shard}",
    validation=snakemake.params.validation,
    out=snakemake.output.shard,
    validation_out=snakemake.output.validation,
    stats_out=snakemake.output.stats,
)
