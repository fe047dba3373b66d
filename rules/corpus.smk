# The corpus stage: read every source into shards, filter, then deduplicate across all shards
# (exact + MinHash-LSH): signatures per shard, one global clustering, a filter per shard that also
# holds out the validation set (validation.share of the files), which no training data ever sees.


rule corpus_read:
    input:
        unpack(corpus_raw_input),
    output:
        raw="results/corpus/raw/{source}/{shard}.jsonl.zst",
        stats="results/corpus/raw/{source}/{shard}.stats.json",
    params:
        shard=corpus_shard_params,
        filters=config["corpus"]["filters"],
        on_error=config["corpus"]["on_error"],
    log:
        "logs/corpus/read/{source}/{shard}.log",
    conda:
        "../envs/corpus.yaml"
    script:
        "../scripts/corpus_read.py"


rule corpus_minhash:
    input:
        "results/corpus/raw/{source}/{shard}.jsonl.zst",
    output:
        "results/corpus/minhash/{source}-{shard}.parquet",
    params:
        dedup=config["corpus"]["dedup"],
    log:
        "logs/corpus/minhash/{source}-{shard}.log",
    conda:
        "../envs/corpus.yaml"
    script:
        "../scripts/corpus_minhash.py"


rule corpus_clusters:
    input:
        corpus_shard_files("results/corpus/minhash"),
    output:
        duplicates="results/corpus/dedup/duplicates.parquet",
        stats="results/corpus/dedup/clusters.json",
    params:
        dedup=config["corpus"]["dedup"],
    log:
        "logs/corpus/clusters.log",
    resources:
        mem_mb=lambda wildcards, input: max(2000, int(input.size_mb * 4)),
    conda:
        "../envs/corpus.yaml"
    script:
        "../scripts/corpus_clusters.py"


rule corpus_dedup:
    input:
        raw="results/corpus/raw/{source}/{shard}.jsonl.zst",
        duplicates="results/corpus/dedup/duplicates.parquet",
    output:
        shard="results/corpus/dedup/{source}-{shard}.parquet",
        validation="results/corpus/validation/{source}-{shard}.parquet",
        stats="results/corpus/dedup/{source}-{shard}.stats.json",
    params:
        validation=VALIDATION_SPLIT,
    log:
        "logs/corpus/dedup/{source}-{shard}.log",
    conda:
        "../envs/corpus.yaml"
    script:
        "../scripts/corpus_dedup.py"


rule corpus_stats:
    input:
        read=[f"results/corpus/raw/{s}/{i}.stats.json" for s, i in DERIVED.corpus_shards],
        clusters="results/corpus/dedup/clusters.json",
        dedup=corpus_shard_files("results/corpus/dedup", "stats.json"),
    output:
        report("results/corpus/stats.json", category="Corpus", labels={"file": "stats"}),
    log:
        "logs/corpus/stats.log",
    conda:
        "../envs/corpus.yaml"
    script:
        "../scripts/corpus_stats.py"


rule corpus_validation:
    input:
        VALIDATION_CODE_SHARDS,
    output:
        pairs="results/validation/realcode.jsonl",
        stats=report("results/validation/realcode.stats.json", category="Corpus", labels={"file": "validation pairs"}),
    params:
        max_pairs=config["validation"]["max_pairs"],
        seed=config["validation"]["seed"],
    log:
        "logs/corpus/validation.log",
    conda:
        "../envs/corpus.yaml"
    script:
        "../scripts/corpus_validation.py"
