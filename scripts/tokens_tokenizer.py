"""Rule tokenizer: train a byte-level BPE on CodeTextbook, or save the configured pretrained tokenizer."""

from phi1repro.tokens.tokenizer import save_pretrained_tokenizer, train_tokenizer
from phi1repro.workflow import run_step

spec = snakemake.params.tokenizer
if spec["kind"] == "train":
    run_step(snakemake, train_tokenizer, files=list(snakemake.input), vocab_size=spec["vocab_size"],
             out_dir=snakemake.output[0], max_documents=spec["max_documents"])
else:
    run_step(snakemake, save_pretrained_tokenizer, path=spec["path"], out_dir=snakemake.output[0])
