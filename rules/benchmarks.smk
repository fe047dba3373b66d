# The evaluation benchmarks, verified by checksum and normalised to JSON lines; and the demo's
# held-out benchmark, CodeExercises asked for names that training never gets (synth.heldout).


rule benchmarks_prepare:
    wildcard_constraints:
        benchmark="|".join(DERIVED.benchmarks) or "(?!)",
    input:
        benchmark_source_input,
    output:
        problems="results/benchmarks/{benchmark}.jsonl",
        stats=report("results/benchmarks/{benchmark}.stats.json", category="Benchmarks", labels={"benchmark": "{benchmark}"}),
    params:
        source=lambda wildcards: DERIVED.benchmarks[wildcards.benchmark]["source"],
        sha256=lambda wildcards: DERIVED.benchmarks[wildcards.benchmark]["sha256"],
    log:
        "logs/benchmarks/{benchmark}.log",
    conda:
        "../envs/corpus.yaml"
    script:
        "../scripts/benchmarks_prepare.py"


rule benchmarks_heldout:
    output:
        problems="results/benchmarks/heldout.jsonl",
        rejected="results/benchmarks/heldout.rejected.parquet",
        stats=report("results/benchmarks/heldout.stats.json", category="Benchmarks", labels={"benchmark": "heldout"}),
    params:
        exercises=synth_generation_params(DERIVED.synth_exercises),
        heldout=config["synth"]["heldout"]["count"],
        seed=config["synth"]["seed"],
        validation_limits={k: v for k, v in DERIVED.synth_exercises["validation"].items() if k != "workers"},
        teacher=DERIVED.teacher_identity,
    threads: DERIVED.synth_exercises["validation"]["workers"]
    resources:
        **DERIVED.teacher_resources,
    log:
        main="logs/benchmarks/heldout.log",
        teacher="logs/benchmarks/heldout.teacher.log",
    conda:
        "../envs/teacher.yaml"
    script:
        "../scripts/benchmarks_heldout.py"
