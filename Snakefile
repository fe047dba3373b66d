# The phi-1 build: raw code corpora -> filtered and synthetic data -> models -> HumanEval/MBPP.
# `snakemake --configfile configs/demo.yaml` runs offline on a laptop; without --configfile the
# paper-scale recipe in config.yaml is used. See README.md (Two commands, Configuration, Layout).

from snakemake.utils import min_version

min_version("9.0")


# A config file on the command line replaces config.yaml instead of being merged into it,
# so a small config never inherits the paper's corpora.
if not workflow.overwrite_configfiles:

    configfile: "config.yaml"


include: "rules/common.smk"
include: "rules/corpus.smk"
include: "rules/annotate.smk"
include: "rules/quality.smk"
include: "rules/synth.smk"
include: "rules/benchmarks.smk"
include: "rules/decontam.smk"
include: "rules/tokens.smk"
include: "rules/train.smk"
include: "rules/evaluate.smk"
include: "rules/paper.smk"


localrules:
    all,


rule all:
    input:
        "results/corpus/stats.json",
        corpus_shard_files("results/corpus/dedup"),
        "results/quality/classifier_metrics.json",
        "results/filtered/stats.json",
        "results/synthetic/stats.json",
        "results/synthetic/diversity.json",
        expand("results/benchmarks/{benchmark}.jsonl", benchmark=[*DERIVED.benchmarks, *DERIVED.heldout]),
        "results/decontam/report.json",
        expand("results/decontam/exercises.tau-{tau}.parquet", tau=DERIVED.decontam_taus),
        "results/tokens/stats.json",
        expand("results/checkpoints/{model}", model=DERIVED.models),
        expand("results/{model}/{benchmark}.json", model=DERIVED.evaluate_models,
               benchmark=DERIVED.evaluate_benchmarks),
        PAPER_TARGETS,
    default_target: True


# Last, when every rule is defined: each script rule's `code` param (see rules/common.smk).
track_code(workflow.rules)
