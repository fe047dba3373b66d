"""Rule tokens_stats: the documents and tokens of every training dataset."""

from phi1repro.tokens.pack import summarize_indexes
from phi1repro.workflow import run_step

run_step(snakemake, summarize_indexes, datasets={name: list(files) for name, files in snakemake.input.items()},
         out=snakemake.output[0])
