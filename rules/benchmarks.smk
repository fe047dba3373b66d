# The evaluation benchmarks, verified by checksum and normalised to JSON lines.


rule benchmarks_prepare:
    input:
        benchmark_source_input,
    output:
        problems="results/benchmarks/{benchmark}.jsonl",
        stats=report("results/benchmarks/{benchmark}.stats.json", category="Benchmarks", labels={"benchmark": "{benchmark}"}),
    params:
        source=lambda wildcards: BENCHMARKS[wildcards.benchmark]["source"],
        sha256=lambda wildcards: BENCHMARKS[wildcards.benchmark]["sha256"],
    log:
        "logs/benchmarks/{benchmark}.log",
    conda:
        "../envs/corpus.yaml"
    script:
        "../scripts/benchmarks_prepare.py"
