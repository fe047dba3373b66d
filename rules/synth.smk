# The synthetic datasets: textbook sections and CodeExercises from the teacher, in parts that run
# in parallel and resume from the teacher cache, and a diversity and redundancy report. Params
# hold what the outputs depend on, the answering teacher among it; round sizes, validation workers and
# the teacher connection (config["teacher"]) are read by the scripts: they change how work runs, not its result.


rule synth_textbooks:
    output:
        sections="results/synthetic/textbooks/{part}.parquet",
        stats="results/synthetic/textbooks/{part}.stats.json",
    params:
        textbooks=synth_generation_params(DERIVED.synth_textbooks),
        seed=config["synth"]["seed"],
        teacher=DERIVED.teacher_identity,
    resources:
        **DERIVED.teacher_resources,
    log:
        main="logs/synth/textbooks/{part}.log",
        teacher="logs/synth/textbooks/{part}.teacher.log",
    conda:
        "../envs/teacher.yaml"
    script:
        "../scripts/synth_textbooks.py"


rule synth_exercises:
    output:
        exercises="results/synthetic/exercises/{part}.parquet",
        rejected="results/synthetic/exercises/{part}.rejected.parquet",
        stats="results/synthetic/exercises/{part}.stats.json",
    params:
        exercises=synth_generation_params(DERIVED.synth_exercises),
        seed=config["synth"]["seed"],
        validation_limits={k: v for k, v in DERIVED.synth_exercises["validation"].items() if k != "workers"},
        teacher=DERIVED.teacher_identity,
    threads: DERIVED.synth_exercises["validation"]["workers"]
    resources:
        **DERIVED.teacher_resources,
    log:
        main="logs/synth/exercises/{part}.log",
        teacher="logs/synth/exercises/{part}.teacher.log",
    conda:
        "../envs/teacher.yaml"
    script:
        "../scripts/synth_exercises.py"


rule synth_stats:
    input:
        textbooks=synth_part_files("textbooks", "stats.json"),
        exercises=synth_part_files("exercises", "stats.json"),
    output:
        report("results/synthetic/stats.json", category="Synthetic data", labels={"file": "stats"}),
    log:
        "logs/synth/stats.log",
    conda:
        "../envs/corpus.yaml"
    script:
        "../scripts/synth_stats.py"


rule synth_diversity:
    input:
        textbooks=synth_part_files("textbooks"),
        exercises=synth_part_files("exercises"),
    output:
        report=report("results/synthetic/diversity.json", category="Synthetic data", labels={"file": "diversity"}),
        plots=report(directory("results/synthetic/plots"), patterns=["{dataset}/{name}.png"], category="Synthetic data",
                     labels={"dataset": "{dataset}", "plot": "{name}"}),
    params:
        vocabularies={
            "textbooks": {c: DERIVED.synth_textbooks[f"{c}s"] for c in ("topic", "audience", "style")},
            "exercises": {"domain": DERIVED.synth_exercises["domains"]},
        },
        embedder=config["quality"]["embedder"],
        embedding_sample=config["synth"]["diversity"]["embedding_sample"],
        seed=config["synth"]["seed"],
    threads: 2
    log:
        "logs/synth/diversity.log",
    conda:
        "../envs/quality.yaml"
    script:
        "../scripts/synth_diversity.py"
