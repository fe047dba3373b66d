# Evaluation: completions from each exported model, executed in the sandbox, scored as pass@k.
# Generation holds the model (a GPU on the cluster); execution runs in other processes, after
# a self-check has run every reference solution through the same executor. HumanEval+ and MBPP+
# judge outputs against the canonical solutions', computed once per benchmark file.


rule evaluate_expected:
    wildcard_constraints:
        benchmark="|".join(PLUS_BENCHMARKS),
    input:
        problems="results/benchmarks/{benchmark}.jsonl",
    output:
        expected="results/evaluate/expected/{benchmark}.json.gz",
        stats="results/evaluate/expected/{benchmark}.stats.json",
    params:
        memory_mb=config["evaluate"]["plus"]["memory_mb"],  # the only limit the reference runs take
    threads: config["evaluate"]["execution"]["workers"]
    log:
        "logs/evaluate/expected/{benchmark}.log",
    conda:
        "../envs/corpus.yaml"
    script:
        "../scripts/evaluate_expected.py"


rule evaluate_selfcheck:
    wildcard_constraints:
        benchmark=EVALUATED_BENCHMARKS,
    input:
        unpack(evaluate_expected),
        problems="results/benchmarks/{benchmark}.jsonl",
    output:
        "results/evaluate/selfcheck/{benchmark}.json",
    params:
        execution=evaluate_execution,
        plus=config["evaluate"]["plus"],
        prompt=evaluate_prompt,
        max_reference_failures=lambda wildcards: config["evaluate"]["self_check"]["max_reference_failures"],
    threads: config["evaluate"]["execution"]["workers"]
    log:
        "logs/evaluate/selfcheck/{benchmark}.log",
    conda:
        "../envs/corpus.yaml"
    script:
        "../scripts/evaluate_selfcheck.py"


rule evaluate_generate:
    wildcard_constraints:
        model=MODEL_NAMES,
        benchmark=EVALUATED_BENCHMARKS,
    input:
        checkpoint="results/checkpoints/{model}",
        problems="results/benchmarks/{benchmark}.jsonl",
    output:
        samples="results/{model}/samples/{benchmark}.jsonl",
        stats="results/{model}/samples/{benchmark}.stats.json",
    params:
        decoding=evaluate_decoding,
        prompt=evaluate_prompt,
    threads: config["evaluate"]["generation"]["cpus"]
    resources:
        gpu=config["evaluate"]["generation"]["gpus"],
        mem_mb=config["evaluate"]["generation"]["mem_mb"],
        runtime=config["evaluate"]["generation"]["runtime_min"],
    log:
        "logs/evaluate/generate/{model}/{benchmark}.log",
    conda:
        "../envs/train.yaml"
    script:
        "../scripts/evaluate_generate.py"


rule evaluate_score:
    wildcard_constraints:
        model=MODEL_NAMES,
        benchmark=EVALUATED_BENCHMARKS,
    input:
        unpack(evaluate_expected),
        samples="results/{model}/samples/{benchmark}.jsonl",
        generation="results/{model}/samples/{benchmark}.stats.json",
        problems="results/benchmarks/{benchmark}.jsonl",
        self_check="results/evaluate/selfcheck/{benchmark}.json",
    output:
        result=report("results/{model}/{benchmark}.json", category="Evaluation",
                      labels={"model": "{model}", "benchmark": "{benchmark}"}),
        problems="results/{model}/{benchmark}.problems.jsonl",
    params:
        execution=evaluate_execution,
        plus=config["evaluate"]["plus"],
        prompt=evaluate_prompt,
        k=config["evaluate"]["k"],
    threads: config["evaluate"]["execution"]["workers"]
    log:
        "logs/evaluate/score/{model}/{benchmark}.log",
    conda:
        "../envs/corpus.yaml"
    script:
        "../scripts/evaluate_score.py"
