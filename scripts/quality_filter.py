"""Rule quality_filter: the records of a shard whose quality probability reaches the threshold."""

from phi1repro.quality.filtering import filter_shard
from phi1repro.workflow import run_step

run_step(snakemake, filter_shard, shard_path=snakemake.input.shard, scores_path=snakemake.input.scores,
         threshold_json=snakemake.input.threshold, out=snakemake.output.shard, stats_out=snakemake.output.stats)
