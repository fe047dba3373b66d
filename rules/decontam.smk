# Decontamination (phi-1 Section 5): every file of every training dataset against the
# benchmark problems, then pruned exercise sets per AST threshold tau, and the report.


rule decontam_match:
    input:
        data=decontam_data_input,
        benchmarks=DECONTAM_BENCHMARKS,
    output:
        matches="results/decontam/matches/{dataset}/{file}.parquet",
        stats="results/decontam/matches/{dataset}/{file}.stats.json",
    wildcard_constraints:
        dataset="exercises|textbooks|code",
        file=r"[\w-]+",
    params:
        kind=lambda wildcards: DECONTAM_SOURCES[wildcards.dataset][0],
        settings=decontam_match_settings,
        embedder=decontam_embedder,
    threads: 2
    log:
        "logs/decontam/match/{dataset}/{file}.log",
    conda:
        "../envs/quality.yaml"
    script:
        "../scripts/decontam_match.py"


rule decontam_prune:
    input:
        exercises=synth_part_files("exercises"),
        matches=decontam_match_files("exercises"),
    output:
        data="results/decontam/exercises.tau-{tau}.parquet",
        stats="results/decontam/exercises.tau-{tau}.stats.json",
    wildcard_constraints:
        tau=r"0\.\d+|1\.0",
    params:
        prune=DERIVED.decontam_prune,
    log:
        "logs/decontam/prune/tau-{tau}.log",
    conda:
        "../envs/quality.yaml"
    script:
        "../scripts/decontam_prune.py"


rule decontam_report:
    input:
        matches=[f for dataset in config["decontam"]["datasets"] for f in decontam_match_files(dataset)],
        stats=[f for dataset in config["decontam"]["datasets"] for f in decontam_match_files(dataset, "stats.json")],
        benchmarks=DECONTAM_BENCHMARKS,
    output:
        json=report("results/decontam/report.json", category="Decontamination", labels={"file": "report"}),
        markdown="results/decontam/report.md",
        plot=report("results/decontam/plots/similarity.png", category="Decontamination"),
    params:
        settings={
            "ngram": config["decontam"]["ngram"],
            "embedding": config["decontam"]["embedding"],
            "taus": config["decontam"]["ast"]["taus"],
            "prune": DERIVED.decontam_prune,
            "mbpp_splits": config["decontam"]["mbpp_splits"],
        },
    log:
        "logs/decontam/report.log",
    conda:
        "../envs/quality.yaml"
    script:
        "../scripts/decontam_report.py"
