# The paper's figures and tables (results/paper/), from the models and reports the other stages build,
# beside the numbers the paper reports (phi1repro/paper/reference.py).


rule paper_figure_2_1:
    input:
        paper_inputs("figure_2_1"),
    output:
        png=report("results/paper/figure_2_1.png", category="Paper", labels={"item": "Figure 2.1"}),
        pdf="results/paper/figure_2_1.pdf",
        data="results/paper/figure_2_1.json",
    params:
        groups=config["paper"]["figure_2_1"]["groups"],
        models=paper_models("figure_2_1"),
        scale=config["paper"]["scale"],
    log:
        "logs/paper/figure_2_1.log",
    conda:
        "../envs/corpus.yaml"
    script:
        "../scripts/paper_figure_2_1.py"


rule paper_table_1:
    input:
        paper_inputs("table_1"),
    output:
        markdown=report("results/paper/table_1.md", category="Paper", labels={"item": "Table 1"}),
        latex="results/paper/table_1.tex",
        data="results/paper/table_1.json",
    params:
        models=paper_models("table_1"),
        scale=config["paper"]["scale"],
    log:
        "logs/paper/table_1.log",
    conda:
        "../envs/corpus.yaml"
    script:
        "../scripts/paper_table_1.py"


rule paper_grade:
    wildcard_constraints:
        model=MODEL_NAMES,
    input:
        samples="results/{model}/samples/unconventional.jsonl",
        problems="results/benchmarks/unconventional.jsonl",
    output:
        grades="results/{model}/unconventional.grades.jsonl",
        summary=report("results/{model}/unconventional.graded.json", category="Paper",
                       labels={"item": "Table 2 grades", "model": "{model}"}),
    params:
        grader=config["paper"]["table_2"]["grader"],
        teacher=DERIVED.teacher_identity,
    resources:
        **DERIVED.teacher_resources,
    log:
        main="logs/paper/grade/{model}.log",
        teacher="logs/paper/grade/{model}.teacher.log",
    conda:
        "../envs/teacher.yaml"
    script:
        "../scripts/paper_grade.py"


rule paper_table_2:
    input:
        paper_inputs("table_2"),
        grades=expand("results/{model}/unconventional.graded.json", model=DERIVED.paper_models["table_2"]),
    output:
        markdown=report("results/paper/table_2.md", category="Paper", labels={"item": "Table 2"}),
        latex="results/paper/table_2.tex",
        data="results/paper/table_2.json",
    params:
        models=paper_models("table_2"),
        grader=config["paper"]["table_2"]["grader"]["model"]
        + (" asked of the offline teacher" if DERIVED.teacher_is_offline else ""),
        scale=config["paper"]["scale"],
    log:
        "logs/paper/table_2.log",
    conda:
        "../envs/corpus.yaml"
    script:
        "../scripts/paper_table_2.py"


rule paper_table_3:
    input:
        unpack(table_3_inputs),
    output:
        markdown=report("results/paper/table_3.md", category="Paper", labels={"item": "Table 3"}),
        latex="results/paper/table_3.tex",
        data="results/paper/table_3.json",
    params:
        base=config["paper"]["table_3"]["model"],
        taus=DERIVED.decontam_taus,
        scale=config["paper"]["scale"],
    log:
        "logs/paper/table_3.log",
    conda:
        "../envs/corpus.yaml"
    script:
        "../scripts/paper_table_3.py"


rule paper_figure_3_1:
    input:
        "results/synthetic/diversity.json",
    output:
        png=report("results/paper/figure_3_1.png", category="Paper", labels={"item": "Figure 3.1"}),
        pdf="results/paper/figure_3_1.pdf",
    params:
        min_count=config["paper"]["figure_3_1"]["min_count"],
        scale=config["paper"]["scale"],
    log:
        "logs/paper/figure_3_1.log",
    conda:
        "../envs/corpus.yaml"
    script:
        "../scripts/paper_figure_3_1.py"
