"""Rule quality_filter_stats: files and estimated tokens kept by the quality filter, per source and in total."""

from phi1repro.quality.filtering import summarise_filter
from phi1repro.workflow import run_step

run_step(snakemake, summarise_filter, shard_stats=list(snakemake.input.shards), threshold_json=snakemake.input.threshold,
         out=snakemake.output[0])
