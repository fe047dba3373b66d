# Training: one job per model recipe, DeepSpeed under torchrun on the job's GPUs (srun starts one
# torchrun per node on several nodes; one CPU process without GPUs). DeepSpeed checkpoints go to results/runs/{model}/, outside the job's output, so a
# job killed at walltime or by a node failure resumes from its newest checkpoint when rerun.


rule train:
    input:
        unpack(train_inputs),
    output:
        report(directory("results/checkpoints/{model}"), patterns=["{name}.json"], category="Training",
               labels={"model": "{model}", "file": "{name}"}),
    params:
        recipe=train_recipe,
        run_dir="results/runs/{model}",
    threads: config["train"]["cpus"]
    resources:
        **train_resources(),  # the profile picks the partition
    log:
        "logs/train/{model}.log",
    conda:
        "../envs/train.yaml"
    script:
        "../scripts/train.py"
