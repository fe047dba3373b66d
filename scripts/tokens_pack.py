"""Rule tokens_pack: one parquet file of a training dataset as a uint16 token shard with its index."""

from phi1repro.tokens.pack import pack_files
from phi1repro.workflow import run_step

run_step(snakemake, pack_files, inputs=[snakemake.input.data], tokenizer_dir=snakemake.input.tokenizer,
         out_bin=snakemake.output.tokens, out_index=snakemake.output.index)
