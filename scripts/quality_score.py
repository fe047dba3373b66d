"""Rule quality_score: the classifier's probability of high educational value for every record of a shard."""

from phi1repro.quality.filtering import score_shard
from phi1repro.workflow import run_step

run_step(snakemake, score_shard, embeddings_path=snakemake.input.embeddings, model_path=snakemake.input.model,
         out=snakemake.output[0])
