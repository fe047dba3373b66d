"""Rules quality_embed and quality_embed_sample: one embedding per record of a parquet file."""

import torch

from phi1repro.quality.embed import EmbedderConfig, embed_parquet
from phi1repro.workflow import run_step

torch.set_num_threads(snakemake.threads)
run_step(snakemake, embed_parquet, records_path=snakemake.input[0],
         cfg=EmbedderConfig(**snakemake.params.embedder), out=snakemake.output[0])
