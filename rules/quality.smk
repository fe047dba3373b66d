# The quality filter: embed every deduplicated shard and the labelled sample, train a random
# forest on the teacher's labels, score every shard, choose the threshold, filter. Each step's
# params are only the config it reads: a new threshold reruns the filter, never the embeddings.


rule quality_embed:
    input:
        "results/corpus/dedup/{source}-{shard}.parquet",
    output:
        "results/quality/embeddings/{source}-{shard}.parquet",
    params:
        embedder=config["quality"]["embedder"],
    threads: 2
    log:
        "logs/quality/embed/{source}-{shard}.log",
    conda:
        "../envs/quality.yaml"
    script:
        "../scripts/quality_embed.py"


rule quality_embed_sample:
    input:
        "results/quality/annotation_sample.parquet",
    output:
        "results/quality/embeddings/annotation_sample.parquet",
    params:
        embedder=config["quality"]["embedder"],
    threads: 2
    log:
        "logs/quality/embed/annotation_sample.log",
    conda:
        "../envs/quality.yaml"
    script:
        "../scripts/quality_embed.py"


rule quality_classifier:
    input:
        labels="results/quality/labels.parquet",
        embeddings="results/quality/embeddings/annotation_sample.parquet",
    output:
        model="results/quality/classifier.joblib",
        metrics=report("results/quality/classifier_metrics.json", category="Quality filter",
                       labels={"file": "classifier metrics"}),
        roc=report("results/quality/plots/roc.png", category="Quality filter"),
        histogram=report("results/quality/plots/score_histogram.png", category="Quality filter"),
    params:
        classifier=config["quality"]["classifier"],
    threads: 4
    log:
        "logs/quality/classifier.log",
    conda:
        "../envs/quality.yaml"
    script:
        "../scripts/quality_classifier.py"


rule quality_score:
    input:
        embeddings="results/quality/embeddings/{source}-{shard}.parquet",
        model="results/quality/classifier.joblib",
    output:
        "results/quality/scores/{source}-{shard}.parquet",
    log:
        "logs/quality/score/{source}-{shard}.log",
    conda:
        "../envs/quality.yaml"
    script:
        "../scripts/quality_score.py"


rule quality_threshold:
    input:
        scores=corpus_shard_files("results/quality/scores"),
        shards=corpus_shard_files("results/corpus/dedup"),
    output:
        threshold="results/quality/threshold.json",
        plot=report("results/quality/plots/retained_tokens.png", category="Quality filter"),
    params:
        filter=config["filter"],
    log:
        "logs/quality/threshold.log",
    conda:
        "../envs/quality.yaml"
    script:
        "../scripts/quality_threshold.py"


rule quality_filter:
    input:
        shard="results/corpus/dedup/{source}-{shard}.parquet",
        scores="results/quality/scores/{source}-{shard}.parquet",
        threshold="results/quality/threshold.json",
    output:
        shard="results/filtered/{source}-{shard}.parquet",
        stats="results/filtered/{source}-{shard}.stats.json",
    log:
        "logs/quality/filter/{source}-{shard}.log",
    conda:
        "../envs/quality.yaml"
    script:
        "../scripts/quality_filter.py"


rule quality_filter_stats:
    input:
        shards=corpus_shard_files("results/filtered", "stats.json"),
        threshold="results/quality/threshold.json",
    output:
        report("results/filtered/stats.json", category="Quality filter", labels={"file": "filtered stats"}),
    log:
        "logs/quality/filter_stats.log",
    conda:
        "../envs/quality.yaml"
    script:
        "../scripts/quality_filter_stats.py"
