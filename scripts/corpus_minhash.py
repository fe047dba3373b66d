"""Rule corpus_minhash: exact hashes and MinHash-LSH band keys of one shard."""

from phi1repro.corpus.stages import sign_shard
from phi1repro.workflow import run_step

run_step(
    snakemake,
    sign_shard,
    raw=snakemake.input[0],
    shard=f"{snakemake.wildcards.source}-{snakemake.wildcards.shard}",
    dedup=snakemake.params.dedup,
    out=snakemake.output[0],
)
