"""Rule quality_threshold: the probability threshold (fixed, or keeping a target share of tokens)."""

from phi1repro.quality.filtering import choose_threshold
from phi1repro.workflow import run_step

run_step(
    snakemake,
    choose_threshold,
    scores_paths=list(snakemake.input.scores),
    shards_paths=list(snakemake.input.shards),
    threshold=None if snakemake.params.filter["target_token_share"] else snakemake.params.filter["threshold"],
    target_token_share=snakemake.params.filter["target_token_share"],
    out=snakemake.output.threshold,
    plot_out=snakemake.output.plot,
)
