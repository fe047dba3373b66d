"""Rule corpus_validation: the held-out files' documented functions as prompt/target pairs (HumanEval's format)."""

from phi1repro.corpus.stages import validation_pairs
from phi1repro.workflow import run_step

run_step(
    snakemake,
    validation_pairs,
    shards=list(snakemake.input),
    max_pairs=snakemake.params.max_pairs,
    seed=snakemake.params.seed,
    out=snakemake.output.pairs,
    stats_out=snakemake.output.stats,
)
