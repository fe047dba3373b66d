# Training: one job per model recipe, DeepSpeed under torchrun on the job's GPUs (or one CPU
# process). DeepSpeed checkpoints go to results/runs/{model}/, outside the job's output, so a
# job killed at walltime or by a node failure resumes from its newest checkpoint when rerun.


rule train:
    input:
        unpack(train_inputs),
    output:
        directory("results/checkpoints/{model}"),
    params:
        recipe=train_recipe,
        run_dir="results/runs/{model}",
    threads: config["train"]["cpus"]
    resources:
        gpu=config["train"]["gpus"],  # the Slurm executor's --gpus; the profile picks the partition
        mem_mb=config["train"]["mem_mb"],
        runtime=config["train"]["runtime_min"],
    log:
        "logs/train/{model}.log",
    conda:
        "../envs/train.yaml"
    script:
        "../scripts/train.py"
