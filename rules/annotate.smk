# The annotation stage: the teacher labels a stratified sample of the deduplicated corpus for
# educational value. Which teacher answers is a param (DERIVED.teacher_identity); its connection settings
# (config["teacher"]) are read by the scripts: they change how requests are sent, not what they ask.


rule annotate_sample:
    input:
        corpus_shard_files("results/corpus/dedup"),
    output:
        sample="results/quality/annotation_sample.parquet",
        stats="results/quality/annotation_sample.stats.json",
    params:
        shards=[f"{s}-{i}" for s, i in DERIVED.corpus_shards],
        sample_size=config["annotate"]["sample_size"],
        seed=config["annotate"]["seed"],
    log:
        "logs/annotate/sample.log",
    conda:
        "../envs/corpus.yaml"
    script:
        "../scripts/annotate_sample.py"


rule annotate_estimate:
    input:
        "results/quality/annotation_sample.parquet",
    output:
        "results/quality/annotation_estimate.json",
    params:
        annotate=config["annotate"],
        teacher=DERIVED.teacher_identity,  # which answers are cached already
    log:
        "logs/annotate/estimate.log",
    conda:
        "../envs/teacher.yaml"
    script:
        "../scripts/annotate_estimate.py"


rule annotate_labels:
    input:
        "results/quality/annotation_sample.parquet",
    output:
        labels="results/quality/labels.parquet",
        stats=report("results/quality/labels.stats.json", category="Annotation", labels={"file": "labels"}),
    params:
        annotate=config["annotate"],
        teacher=DERIVED.teacher_identity,
    resources:
        **DERIVED.teacher_resources,
    log:
        main="logs/annotate/labels.log",
        teacher="logs/annotate/labels.teacher.log",
    conda:
        "../envs/teacher.yaml"
    script:
        "../scripts/annotate_labels.py"
