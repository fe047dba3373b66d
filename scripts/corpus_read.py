"""Rule corpus_read: one shard of one source -> filtered JSON lines + zstd, and its stats."""

from phi1repro.corpus.stages import read_shard
from phi1repro.workflow import run_step

run_step(
    snakemake,
    read_shard,
    source=snakemake.params.shard["source"],
    shard=snakemake.params.shard["shard"],
    num_shards=snakemake.params.shard["num_shards"],
    input_path=snakemake.input.get("data"),
    filters=snakemake.params.filters,
    on_error=snakemake.params.on_error,
    out=snakemake.output.raw,
    stats_out=snakemake.output.stats,
)
