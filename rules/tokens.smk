# The tokenizer, and every training dataset as uint16 token shards (one per input file).


rule tokenizer:
    input:
        lambda wildcards: list(token_sources("codetextbook").values()) if config["tokenizer"]["kind"] == "train" else [],
    output:
        directory("results/tokenizer"),
    params:
        tokenizer=config["tokenizer"],
    log:
        "logs/tokens/tokenizer.log",
    conda:
        "../envs/train.yaml"
    script:
        "../scripts/tokens_tokenizer.py"


rule tokens_pack:
    input:
        data=lambda wildcards: token_sources(wildcards.dataset)[wildcards.shard],
        tokenizer="results/tokenizer",
    output:
        tokens="results/tokens/{dataset}/{shard}.bin",
        index="results/tokens/{dataset}/{shard}.json",
    wildcard_constraints:
        dataset=r"codetextbook|codeexercises|stack_plus|codeexercises\.tau-[0-9.]+",
        shard=r"[\w-]+",
    log:
        "logs/tokens/{dataset}/{shard}.log",
    conda:
        "../envs/train.yaml"
    script:
        "../scripts/tokens_pack.py"


rule tokens_stats:
    input:
        **{dataset: token_index_files(dataset) for dataset in DERIVED.training_datasets},
    output:
        report("results/tokens/stats.json", category="Tokens", labels={"file": "stats"}),
    log:
        "logs/tokens/stats.log",
    conda:
        "../envs/train.yaml"
    script:
        "../scripts/tokens_stats.py"
